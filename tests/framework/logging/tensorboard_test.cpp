// TensorBoard event files: masked CRC32C against values worked out from the definition, TFRecord
// framing byte for byte, the protobuf bytes of the version and scalar Events, a write/read round
// trip, and that damage to any part of a record is reported with the record it is in.
#include "framework/logging/tensorboard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "framework/errors.h"
#include "framework/io/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace attnlab::logging {
namespace {

using attnlab::testing::TempDir;

const auto& message_of = attnlab::testing::user_error_of;

TEST(TensorBoard, MaskedCrc32c) {
  // crc32c("123456789") = 0xE3069283; rotated right by 15 it is 0x2507C60D,
  // plus 0xA282EAD8 = 0xC78AB0E5. The empty string's CRC is 0, so its mask is the constant alone.
  EXPECT_EQ(io::crc32c(std::string("123456789")), 0xE3069283u);
  EXPECT_EQ(masked_crc32c("123456789"), 0xC78AB0E5u);
  EXPECT_EQ(masked_crc32c(""), 0xA282EAD8u);
}

TEST(TensorBoard, TfrecordFramingOfKnownRecord) {
  // length 3 (u64 LE); masked crc32c of those 8 bytes = 0x0E4999B0; "abc";
  // masked crc32c("abc") = masked(0x364B3FB7) = 0x21F1576E.
  const std::string expected("\x03\0\0\0\0\0\0\0"
                             "\xb0\x99\x49\x0e"
                             "abc"
                             "\x6e\x57\xf1\x21",
                             19);
  EXPECT_EQ(tfrecord_frame("abc"), expected);
}

// The data of record `index` in an event file's bytes (framing already trusted).
std::string record_data(const std::string& file, int index) {
  size_t pos = 0;
  for (int i = 0;; ++i) {
    uint64_t length;
    std::memcpy(&length, file.data() + pos, 8);
    if (i == index) return file.substr(pos + 12, length);
    pos += 12 + length + 4;
  }
}

TEST(TensorBoard, EventBytes) {
  TempDir dir;
  std::string path;
  {
    TensorBoardWriter writer(dir.path());
    writer.add_scalar("loss", 0.5, 300);
    path = writer.path();
  }
  const std::string file = io::read_file(path);
  // Event{wall_time: 09 <double>, file_version: 1A 0D "brain.Event:2"}; step 0 is omitted.
  const std::string version = record_data(file, 0);
  ASSERT_EQ(version.size(), 1u + 8u + 2u + 13u);
  EXPECT_EQ(version[0], '\x09');
  EXPECT_EQ(version.substr(9), std::string("\x1a\x0d") + "brain.Event:2");
  // Event{09 <double>, step: 10 AC 02 (300), summary: 2A 0D {value: 0A 0B {tag: 0A 04 "loss",
  // simple_value: 15 00 00 00 3F}}}.
  const std::string scalar = record_data(file, 1);
  const std::string expected_tail("\x10\xac\x02\x2a\x0d\x0a\x0b\x0a\x04loss\x15\0\0\0\x3f", 18);
  ASSERT_EQ(scalar.size(), 9u + expected_tail.size());
  EXPECT_EQ(scalar[0], '\x09');
  EXPECT_EQ(scalar.substr(9), expected_tail);
}

TEST(TensorBoard, WrittenFileReadsBack) {
  TempDir dir;
  std::string path;
  {
    TensorBoardWriter writer(dir.path() + "/run/tb");  // created if missing
    writer.add_scalar("train/loss", 2.25, 1);
    writer.add_scalar("train/accuracy", 0.1, 1);
    writer.add_scalar("eval/loss", 1.5, 1000000000000);
    writer.add_scalar("weird", -3.0, -7);  // negative step: a 10-byte varint
    path = writer.path();
  }
  EXPECT_NE(path.find("/run/tb/events.out.tfevents."), std::string::npos);
  const auto scalars = read_tensorboard_scalars(path);
  ASSERT_EQ(scalars.size(), 4u);
  EXPECT_EQ(scalars[0].tag, "train/loss");
  EXPECT_EQ(scalars[0].step, 1);
  EXPECT_EQ(scalars[0].value, 2.25);
  EXPECT_EQ(scalars[1].tag, "train/accuracy");
  EXPECT_EQ(scalars[1].value, static_cast<double>(0.1f));  // stored as float
  EXPECT_EQ(scalars[2].step, 1000000000000);
  EXPECT_EQ(scalars[3].step, -7);
  EXPECT_EQ(scalars[3].value, -3.0);
  const double now = static_cast<double>(std::time(nullptr));
  for (const auto& s : scalars) EXPECT_NEAR(s.wall_time, now, 60.0);
}

std::string le_double(double v) {
  std::string b(8, '\0');
  std::memcpy(&b[0], &v, 8);
  return b;
}

TEST(TensorBoard, HistogramEventBytes) {
  TempDir dir;
  std::string path;
  {
    TensorBoardWriter writer(dir.path());
    writer.add_index_histogram("h", {0.0, 2.0}, 3);  // all weight on index 1
    path = writer.path();
  }
  // Event{09 <double>, step: 10 03, summary: 2A {value: 0A {tag: 0A 01 "h", histo: 2A {min: 09,
  // max: 11, num: 19, sum: 21, sum_squares: 29 <doubles>, bucket_limit: 32 10 <0.5, 1.5>,
  // bucket: 3A 10 <0, 2>}}}}, worked out from summary.proto's field numbers.
  std::string histo;
  for (const auto& [key, v] : std::vector<std::pair<char, double>>{{'\x09', 1}, {'\x11', 1}, {'\x19', 2}, {'\x21', 2}, {'\x29', 2}})
    histo += std::string(1, key) + le_double(v);
  histo += std::string("\x32\x10") + le_double(0.5) + le_double(1.5);
  histo += std::string("\x3a\x10") + le_double(0.0) + le_double(2.0);
  const std::string value = std::string("\x0a\x01h\x2a") + static_cast<char>(histo.size()) + histo;
  const std::string summary = std::string("\x0a") + static_cast<char>(value.size()) + value;
  const std::string expected_tail = std::string("\x10\x03\x2a") + static_cast<char>(summary.size()) + summary;
  const std::string event = record_data(io::read_file(path), 1);
  ASSERT_EQ(event.size(), 9u + expected_tail.size());
  EXPECT_EQ(event.substr(9), expected_tail);
}

TEST(TensorBoard, HistogramsReadBack) {
  TempDir dir;
  std::string path;
  {
    TensorBoardWriter writer(dir.path());
    writer.add_histogram("weights/w", {0, 1, 2, 3, 4, 10, std::nan("")}, 7, 5);
    writer.add_index_histogram("usage", {0, 0.5, 0.25, 0}, 7);
    writer.add_histogram("empty", {}, 7);              // nothing to write
    writer.add_histogram("flat", {2, 2, 2}, 8, 3);       // one value: no zero-width buckets
    writer.add_scalar("loss", 1.0, 7);
    path = writer.path();
  }
  const auto h = read_tensorboard_histograms(path);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].tag, "weights/w");
  EXPECT_EQ(h[0].step, 7);
  EXPECT_EQ(h[0].min, 0);
  EXPECT_EQ(h[0].max, 10);
  EXPECT_EQ(h[0].num, 6);  // the NaN is left out
  EXPECT_EQ(h[0].sum, 20);
  EXPECT_EQ(h[0].sum_squares, 130);
  EXPECT_EQ(h[0].bucket_limit, (std::vector<double>{2, 4, 6, 8, 10}));
  EXPECT_EQ(h[0].bucket, (std::vector<double>{3, 2, 0, 0, 1}));  // (lo, hi] buckets, the minimum in the first
  EXPECT_EQ(h[1].tag, "usage");
  EXPECT_EQ(h[1].min, 1);
  EXPECT_EQ(h[1].max, 2);
  EXPECT_EQ(h[1].num, 0.75);
  EXPECT_EQ(h[1].sum, 1.0);
  EXPECT_EQ(h[1].sum_squares, 1.5);
  EXPECT_EQ(h[1].bucket_limit, (std::vector<double>{0.5, 1.5, 2.5, 3.5}));
  EXPECT_EQ(h[2].tag, "flat");
  EXPECT_EQ(h[2].bucket, (std::vector<double>{3, 0, 0}));
  EXPECT_EQ(read_tensorboard_scalars(path).size(), 1u);  // histograms are not scalars
}

TEST(TensorBoard, FlushedPointsAreVisibleWhileOpen) {
  TempDir dir;
  TensorBoardWriter writer(dir.path());
  writer.add_scalar("x", 1.0, 1);
  const auto scalars = read_tensorboard_scalars(writer.path());
  ASSERT_EQ(scalars.size(), 1u);
  EXPECT_EQ(scalars[0].tag, "x");
}

TEST(TensorBoard, TwoWritersInOneDirectoryGetDistinctFiles) {
  TempDir dir;
  TensorBoardWriter a(dir.path()), b(dir.path());
  EXPECT_NE(a.path(), b.path());
}

// Writes a file with the version record and two scalars, damages it with `edit`, returns the
// reader's message and the path.
std::pair<std::string, std::string> damaged(const TempDir& dir,
                                            const std::function<void(std::string&)>& edit) {
  std::string path;
  {
    TensorBoardWriter writer(dir.path());
    writer.add_scalar("a", 1.0, 1);
    writer.add_scalar("b", 2.0, 2);
    path = writer.path();
  }
  std::string bytes = io::read_file(path);
  edit(bytes);
  io::write_file_atomic(path, bytes);
  return {message_of([&] { read_tensorboard_scalars(path); }), path};
}

TEST(TensorBoard, CorruptedDataByteIsReported) {
  TempDir dir;
  size_t record1 = 0;
  auto [message, path] = damaged(dir, [&](std::string& bytes) {
    record1 = 12 + record_data(bytes, 0).size() + 4;
    bytes[record1 + 12 + 10] ^= 0x01;  // a byte inside record 1's data
  });
  EXPECT_EQ(message, path + ": record 1 (byte " + std::to_string(record1) +
                         "): data checksum mismatch");
}

TEST(TensorBoard, CorruptedLengthIsReported) {
  TempDir dir;
  auto [message, path] = damaged(dir, [](std::string& bytes) { bytes[0] ^= 0x40; });
  EXPECT_EQ(message, path + ": record 0 (byte 0): length checksum mismatch");
}

TEST(TensorBoard, TruncatedRecordIsReported) {
  TempDir dir;
  auto [message, path] = damaged(dir, [](std::string& bytes) { bytes.resize(bytes.size() - 1); });
  EXPECT_NE(message.find(": record 2 (byte "), std::string::npos) << message;
  EXPECT_NE(message.find("truncated record"), std::string::npos) << message;
}

}  // namespace
}  // namespace attnlab::logging
