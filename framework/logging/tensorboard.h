// TensorBoard event files (`events.out.tfevents.<unix_time>.<hostname>`), written without
// TensorFlow or a protobuf library, readable by `tensorboard --logdir`.
//
// File = sequence of TFRecords:
//   u64 LE  length of data
//   u32 LE  masked_crc32c(the 8 length bytes)
//   bytes   data: one serialized tensorflow.Event protobuf
//   u32 LE  masked_crc32c(data)
// masked_crc(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2^32), CRC32C = Castagnoli.
//
// Event (tensorflow/core/util/event.proto), the fields used here:
//   wall_time = 1 (double, seconds since the epoch)   step = 2 (int64)
//   file_version = 3 (string "brain.Event:2", first record only)   summary = 5 (Summary)
// Summary { repeated Value value = 1 }
// Value { tag = 1 (string), simple_value = 2 (float), histo = 5 (HistogramProto) }
// HistogramProto { min = 1, max = 2, num = 3, sum = 4, sum_squares = 5 (doubles),
//                  bucket_limit = 6, bucket = 7 (packed doubles) }: bucket i counts the values in
//                  (bucket_limit[i-1], bucket_limit[i]], as TensorFlow's histogram summaries do.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace attnlab::logging {

// The masked CRC32C TFRecord stores (exposed for tests and for the reader).
uint32_t masked_crc32c(const std::string& bytes);
// Frames `data` as one TFRecord (length, masked CRC of length, data, masked CRC of data).
std::string tfrecord_frame(const std::string& data);

struct TensorBoardHistogram {
  std::string tag;
  int64_t step = 0;
  double min = 0, max = 0, num = 0, sum = 0, sum_squares = 0;
  std::vector<double> bucket_limit, bucket;
};

class TensorBoardWriter {
 public:
  // Creates `dir` if missing and a new event file in it (a numeric suffix is added if a file of
  // the same second and host exists), then writes the file_version record. Throws UserError.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  // Appends one Event with one simple_value (stored as float, as TensorBoard does) and flushes
  // the stdio buffer, so a live `tensorboard` sees every point and a crash loses none already
  // returned; no fsync (metrics.jsonl is the durable record).
  void add_scalar(const std::string& tag, double value, int64_t step);
  // A histogram of `values` (e.g. a weight tensor's) in `buckets` equal-width buckets between
  // their minimum and maximum; non-finite values are left out. Nothing is written for no values.
  void add_histogram(const std::string& tag, const std::vector<double>& values, int64_t step, int buckets = 30);
  // A distribution over the positions 0..n-1 with the given weights, one bucket per position
  // (limits i + 0.5): e.g. MoH's per-head usage, shown by TensorBoard over the head index.
  void add_index_histogram(const std::string& tag, const std::vector<double>& weights, int64_t step);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& event);
  void write_histogram(const std::string& tag, const TensorBoardHistogram& h, int64_t step);
  // One Event with one Summary.Value: the tag, then `value_fields` (the value's other fields, encoded).
  void write_value(const std::string& tag, const std::string& value_fields, int64_t step);

  std::string path_;
  std::FILE* file_ = nullptr;
};

struct TensorBoardScalar {
  std::string tag;
  int64_t step = 0;
  double value = 0;  // the stored float, widened
  double wall_time = 0;
};

// Every histo value in an event file, in file order; the same checks as the scalars' reader.
std::vector<TensorBoardHistogram> read_tensorboard_histograms(const std::string& path);

// Every simple_value in an event file, in file order. Verifies both CRCs of every record and the
// protobuf encoding; throws UserError "PATH: record N (byte B): <problem>" on any damage,
// including a truncated last record. Values of other kinds (histograms, images, tensors) are
// skipped here.
std::vector<TensorBoardScalar> read_tensorboard_scalars(const std::string& path);

}  // namespace attnlab::logging
