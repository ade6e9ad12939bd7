// safetensors: round trips of every dtype and of edge shapes, byte-exact output against bytes
// written out by hand from the format's definition (what Python's safetensors.save_file writes),
// and one refusal per kind of malformed file, each with its message.
#include "framework/io/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>

#include "framework/errors.h"
#include "framework/io/files.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace attnlab::io {
namespace {

using attnlab::testing::TempDir;

const auto& message_of = attnlab::testing::user_error_of;

std::string u64_le(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}

// A file from a header text and a buffer, with no padding and no checks: the malformed cases.
std::string raw_file(const std::string& header, const std::string& buffer) {
  return u64_le(header.size()) + header + buffer;
}

TEST(Safetensors, RoundTripsEveryDtypeAndEdgeShapes) {
  TempDir dir;
  torch::manual_seed(0);
  const std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"f32", torch::randn({2, 3})},
      {"f64", torch::randn({4}, torch::kDouble)},
      {"f16", torch::randn({3, 1, 2}).to(torch::kHalf)},
      {"bf16", torch::randn({5}).to(torch::kBFloat16)},
      {"i64", torch::tensor({-(int64_t(1) << 40), int64_t(7)})},
      {"i32", torch::tensor({-3, 2000000000}, torch::kInt)},
      {"i16", torch::tensor({-300, 300}, torch::kShort)},
      {"i8", torch::tensor({-128, 127}, torch::kChar)},
      {"u8", torch::tensor({0, 255}, torch::kByte)},
      {"bool", torch::tensor({true, false, true})},
      {"scalar", torch::tensor(3.5)},                     // 0-d: shape []
      {"empty", torch::zeros({0, 3})},                    // 0 bytes
      {"transposed", torch::arange(6.0).reshape({2, 3}).t()},  // non-contiguous input
  };
  const std::string path = dir / "all.safetensors";
  write_safetensors(path, tensors);
  const SafetensorsFile file = read_safetensors(path);
  ASSERT_EQ(file.tensors.size(), tensors.size());
  EXPECT_TRUE(file.metadata.empty());
  for (const auto& [name, expected] : tensors) {
    SCOPED_TRACE(name);
    auto it = std::find_if(file.tensors.begin(), file.tensors.end(),
                           [&](const auto& p) { return p.first == name; });
    ASSERT_NE(it, file.tensors.end());
    EXPECT_EQ(it->second.scalar_type(), expected.scalar_type());
    EXPECT_EQ(it->second.sizes(), expected.sizes());
    EXPECT_TRUE(torch::equal(it->second.to(torch::kDouble), expected.to(torch::kDouble)));
  }
}

TEST(Safetensors, BufferOrderIsDtypeThenName) {
  // The reference sorts by dtype (descending enum order: I64 > F64 > F32 > ... > U8 > BOOL) and
  // then by name; the reader returns buffer order.
  TempDir dir;
  const std::string path = dir / "order.safetensors";
  write_safetensors(path, {{"b", torch::zeros({1})},
                           {"flag", torch::zeros({1}, torch::kBool)},
                           {"a", torch::zeros({1})},
                           {"idx", torch::zeros({1}, torch::kLong)}});
  std::vector<std::string> names;
  for (const auto& [name, t] : read_safetensors(path).tensors) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"idx", "a", "b", "flag"}));
}

TEST(Safetensors, MetadataRoundTrips) {
  TempDir dir;
  const std::string path = dir / "meta.safetensors";
  const std::map<std::string, std::string> meta = {
      {"format", "pt"}, {"step", "1200"}, {"note", "quotes \" and \\ and unicode \xc3\xa9"}};
  write_safetensors(path, {{"w", torch::ones({2, 2})}}, meta);
  EXPECT_EQ(read_safetensors(path).metadata, meta);
}

TEST(Safetensors, ByteExactSingleTensor) {
  TempDir dir;
  const std::string path = dir / "x.safetensors";
  write_safetensors(path, {{"x", torch::tensor({1.0f, 2.0f})}});
  // 54 header bytes, padded with 2 spaces to 56; then 1.0f = 00 00 80 3f, 2.0f = 00 00 00 40.
  const std::string header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
  ASSERT_EQ(header.size(), 54u);
  const std::string expected = std::string("\x38\0\0\0\0\0\0\0", 8) + header + "  " +
                               std::string("\0\0\x80\x3f\0\0\0\x40", 8);
  EXPECT_EQ(read_file(path), expected);
}

TEST(Safetensors, ByteExactWithMetadataAndScalar) {
  TempDir dir;
  const std::string path = dir / "m.safetensors";
  write_safetensors(path, {{"s", torch::tensor(int64_t(5))}}, {{"format", "pt"}});
  // "__metadata__" comes first; a 0-d tensor has shape []. 84 bytes + 4 spaces = 88.
  const std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}";
  ASSERT_EQ(header.size(), 84u);
  const std::string expected = std::string("\x58\0\0\0\0\0\0\0", 8) + header + "    " +
                               std::string("\x05\0\0\0\0\0\0\0", 8);
  EXPECT_EQ(read_file(path), expected);
}

TEST(Safetensors, WriterRefusesDuplicateNamesAndUnsupportedDtypes) {
  TempDir dir;
  const std::string path = dir / "bad.safetensors";
  EXPECT_EQ(message_of([&] { write_safetensors(path, {{"a", torch::ones(1)}, {"a", torch::ones(1)}}); }),
            path + ": cannot write safetensors: duplicate tensor name 'a'");
  EXPECT_NE(message_of([&] { write_safetensors(path, {{"c", torch::ones(1, torch::kComplexFloat)}}); })
                .find("tensor 'c' has dtype ComplexFloat"),
            std::string::npos);
  EXPECT_NE(message_of([&] { write_safetensors(path, {{"__metadata__", torch::ones(1)}}); })
                .find("'__metadata__' is reserved"),
            std::string::npos);
}

// Writes `bytes` and returns the reader's message with the "PATH: not a valid ... file: " prefix
// checked and removed.
std::string refusal(const std::string& bytes) {
  TempDir dir;
  const std::string path = dir / "bad.safetensors";
  write_file_atomic(path, bytes);
  const std::string message = message_of([&] { read_safetensors(path); });
  const std::string prefix = path + ": not a valid safetensors file: ";
  if (message.rfind(prefix, 0) != 0) return "(wrong prefix) " + message;
  return message.substr(prefix.size());
}

const std::string kEightBytes(8, '\0');

std::string one_tensor(const std::string& entry) { return "{\"t\":" + entry + "}"; }

TEST(SafetensorsMalformed, ShortFile) {
  EXPECT_EQ(refusal(std::string("\x05\0\0", 3)), "file is 3 bytes, shorter than the 8-byte header length");
}

TEST(SafetensorsMalformed, HeaderLengthBeyondFile) {
  EXPECT_EQ(refusal(u64_le(100) + "{}"),
            "header length 100 runs past the end of the file (2 bytes follow the length)");
}

TEST(SafetensorsMalformed, HeaderNotJson) {
  EXPECT_NE(refusal(raw_file("{\"t\":", "")).find("header is not valid JSON"), std::string::npos);
}

TEST(SafetensorsMalformed, HeaderNotObject) {
  EXPECT_EQ(refusal(raw_file("[1,2]", "")), "header is JSON but not an object");
}

TEST(SafetensorsMalformed, UnknownDtype) {
  EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"Q4","shape":[2],"data_offsets":[0,8]})"),
                             kEightBytes)),
            "tensor 't': unknown dtype 'Q4' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, "
            "U8, BOOL)");
}

TEST(SafetensorsMalformed, ShapeNotNonNegativeInts) {
  for (const std::string shape : {"[-2]", "[2.0]", "[\"2\"]"})
    EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"U8","shape":)" + shape +
                                          R"(,"data_offsets":[0,2]})"),
                               std::string(2, '\0'))),
              "tensor 't': shape " + shape + " is not a list of non-negative integers");
  EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"U8","shape":2,"data_offsets":[0,2]})"),
                             std::string(2, '\0'))),
            "tensor 't': shape is not a list of non-negative integers");
}

TEST(SafetensorsMalformed, MissingKey) {
  EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"U8","shape":[2]})"), std::string(2, '\0'))),
            "tensor 't': missing \"data_offsets\"");
}

TEST(SafetensorsMalformed, OffsetsNotAPair) {
  EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"U8","shape":[2],"data_offsets":[2]})"),
                             std::string(2, '\0'))),
            "tensor 't': data_offsets [2] is not [begin, end]");
}

TEST(SafetensorsMalformed, OffsetsBeginAfterEnd) {
  EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"U8","shape":[2],"data_offsets":[2,0]})"),
                             std::string(2, '\0'))),
            "tensor 't': data_offsets [2,0] has begin after end");
}

TEST(SafetensorsMalformed, SizeDisagreesWithShape) {
  EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"),
                             kEightBytes)),
            "tensor 't': data_offsets [0,8] span 8 bytes but shape [3] of F32 needs 3 x 4");
}

TEST(SafetensorsMalformed, OffsetsOutOfBuffer) {
  EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"),
                             std::string(4, '\0'))),
            "tensor 't': data_offsets [0, 8] run past the 4-byte buffer");
}

TEST(SafetensorsMalformed, OverlappingTensors) {
  EXPECT_EQ(refusal(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             std::string(12, '\0'))),
            "tensors 'a' and 'b' overlap in the buffer");
}

TEST(SafetensorsMalformed, HolesInBuffer) {
  EXPECT_EQ(refusal(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                             std::string(12, '\0'))),
            "buffer bytes [4, 8) belong to no tensor");
  EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})"),
                             kEightBytes)),
            "buffer bytes [4, 8) belong to no tensor");
}

TEST(SafetensorsMalformed, DuplicateNames) {
  EXPECT_EQ(refusal(raw_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                             std::string(2, '\0'))),
            "header has the key 'a' more than once");
}

TEST(SafetensorsMalformed, MetadataValueNotString) {
  EXPECT_EQ(refusal(raw_file(R"({"__metadata__":{"step":12}})", "")),
            "metadata value of 'step' is not a string");
  EXPECT_EQ(refusal(raw_file(R"({"__metadata__":["x"]})", "")), "'__metadata__' is not an object");
}

TEST(SafetensorsMalformed, BoolByteNotZeroOrOne) {
  EXPECT_EQ(refusal(raw_file(one_tensor(R"({"dtype":"BOOL","shape":[2],"data_offsets":[0,2]})"),
                             std::string("\x01\x02", 2))),
            "tensor 't': BOOL byte 1 is 2, not 0 or 1");
}

TEST(Safetensors, EmptyFileWithNoTensorsIsValid) {
  // "{}" padded to 8 is what the reference writes for an empty dict.
  TempDir dir;
  const std::string path = dir / "empty.safetensors";
  write_safetensors(path, {});
  EXPECT_EQ(read_file(path), u64_le(8) + "{}      ");
  EXPECT_TRUE(read_safetensors(path).tensors.empty());
}

}  // namespace
}  // namespace attnlab::io
