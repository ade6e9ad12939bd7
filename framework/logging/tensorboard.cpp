// TensorBoard event files: TFRecord framing and a hand-written protobuf encoder/decoder for the
// few Event fields we use (format in tensorboard.h). Protobuf wire format: each field is a varint
// key (field_number << 3 | wire_type) then a varint (type 0), 8 little-endian bytes (type 1),
// a varint length and bytes (type 2) or 4 little-endian bytes (type 5).
#include "framework/logging/tensorboard.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <string_view>
#include <system_error>

#include "framework/errors.h"
#include "framework/io/files.h"

namespace attnlab::logging {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "TFRecord and protobuf are little endian");

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

template <typename T>
void put_fixed(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_key(std::string& out, int field, int wire_type) {
  put_varint(out, static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type));
}

void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_key(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Event{wall_time, step, ...rest}; wall_time and step first, as TensorFlow serialises them.
std::string event_with(double wall_time, int64_t step, const std::string& rest) {
  std::string e;
  put_key(e, 1, 1);
  put_fixed(e, wall_time);
  if (step != 0) {  // proto3 default omitted; negative steps are 10-byte two's-complement varints
    put_key(e, 2, 0);
    put_varint(e, static_cast<uint64_t>(step));
  }
  return e + rest;
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// Thrown inside the decoder, turned into a UserError naming the file and record.
struct Malformed {
  std::string what;
};

// Protobuf decoding over one message's bytes.
class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return pos_ == bytes_.size(); }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) throw Malformed{"truncated varint"};
      const auto b = static_cast<unsigned char>(bytes_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw Malformed{"varint longer than 10 bytes"};
  }
  template <typename T>
  T fixed() {
    if (bytes_.size() - pos_ < sizeof(T)) throw Malformed{"truncated fixed-width field"};
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view length_delimited() {
    const uint64_t n = varint();
    if (n > bytes_.size() - pos_) throw Malformed{"length-delimited field runs past its message"};
    std::string_view v = bytes_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  void skip(int wire_type) {
    switch (wire_type) {
      case 0: varint(); break;
      case 1: fixed<uint64_t>(); break;
      case 2: length_delimited(); break;
      case 5: fixed<uint32_t>(); break;
      default: throw Malformed{"unsupported wire type " + std::to_string(wire_type)};
    }
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

void expect_wire(int field, int got, int want, const char* message) {
  if (got != want)
    throw Malformed{std::string(message) + " field " + std::to_string(field) + " has wire type " +
                    std::to_string(got) + ", expected " + std::to_string(want)};
}

// A HistogramProto's fields (format in tensorboard.h).
TensorBoardHistogram decode_histogram(std::string_view bytes) {
  TensorBoardHistogram h;
  Decoder d(bytes);
  while (!d.done()) {
    const uint64_t key = d.varint();
    const int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    if (field >= 1 && field <= 5) {
      expect_wire(field, wire, 1, "HistogramProto");
      double* target[] = {&h.min, &h.max, &h.num, &h.sum, &h.sum_squares};
      *target[field - 1] = d.fixed<double>();
    } else if (field == 6 || field == 7) {
      expect_wire(field, wire, 2, "HistogramProto");
      Decoder packed(d.length_delimited());
      auto& out = field == 6 ? h.bucket_limit : h.bucket;
      while (!packed.done()) out.push_back(packed.fixed<double>());
    } else {
      d.skip(wire);
    }
  }
  if (h.bucket_limit.size() != h.bucket.size())
    throw Malformed{"histogram with " + std::to_string(h.bucket_limit.size()) + " bucket limits and " +
                    std::to_string(h.bucket.size()) + " buckets"};
  return h;
}

struct Decoded {
  std::vector<TensorBoardScalar> scalars;
  std::vector<TensorBoardHistogram> histograms;
};

// Appends the simple_values and histograms of one Event to `out`.
void decode_event(std::string_view bytes, Decoded& out) {
  double wall_time = 0;
  int64_t step = 0;
  std::vector<std::pair<std::string, float>> values;
  std::vector<TensorBoardHistogram> histograms;
  Decoder event(bytes);
  while (!event.done()) {
    const uint64_t key = event.varint();
    const int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    if (field == 1) {
      expect_wire(field, wire, 1, "Event");
      wall_time = event.fixed<double>();
    } else if (field == 2) {
      expect_wire(field, wire, 0, "Event");
      step = static_cast<int64_t>(event.varint());
    } else if (field == 5) {
      expect_wire(field, wire, 2, "Event");
      Decoder summary(event.length_delimited());
      while (!summary.done()) {
        const uint64_t skey = summary.varint();
        const int sfield = static_cast<int>(skey >> 3), swire = static_cast<int>(skey & 7);
        if (sfield != 1) {
          summary.skip(swire);
          continue;
        }
        expect_wire(sfield, swire, 2, "Summary");
        Decoder value(summary.length_delimited());
        std::string tag;
        bool has_simple = false, has_histogram = false;
        float simple = 0;
        TensorBoardHistogram histogram;
        while (!value.done()) {
          const uint64_t vkey = value.varint();
          const int vfield = static_cast<int>(vkey >> 3), vwire = static_cast<int>(vkey & 7);
          if (vfield == 1) {
            expect_wire(vfield, vwire, 2, "Summary.Value");
            tag = std::string(value.length_delimited());
          } else if (vfield == 2) {
            expect_wire(vfield, vwire, 5, "Summary.Value");
            simple = value.fixed<float>();
            has_simple = true;
          } else if (vfield == 5) {
            expect_wire(vfield, vwire, 2, "Summary.Value");
            histogram = decode_histogram(value.length_delimited());
            has_histogram = true;
          } else {
            value.skip(vwire);
          }
        }
        if (has_simple) values.emplace_back(tag, simple);
        if (has_histogram) {
          histogram.tag = tag;
          histograms.push_back(std::move(histogram));
        }
      }
    } else {
      event.skip(wire);
    }
  }
  for (auto& [tag, v] : values) out.scalars.push_back({std::move(tag), step, v, wall_time});
  for (auto& h : histograms) {
    h.step = step;
    out.histograms.push_back(std::move(h));
  }
}

// Every record of an event file, checked and decoded.
Decoded read_events(const std::string& path);

}  // namespace

uint32_t masked_crc32c(const std::string& bytes) {
  const uint32_t c = io::crc32c(bytes);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string tfrecord_frame(const std::string& data) {
  std::string length;
  put_fixed<uint64_t>(length, data.size());
  std::string out = length;
  put_fixed<uint32_t>(out, masked_crc32c(length));
  out += data;
  put_fixed<uint32_t>(out, masked_crc32c(data));
  return out;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw UserError(dir + ": cannot create TensorBoard log directory: " + ec.message());
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  // TensorBoard accepts any file name containing "tfevents"; O_EXCL plus a suffix keeps two
  // writers started in the same second from truncating each other's file.
  const std::string base =
      dir + "/events.out.tfevents." + std::to_string(std::time(nullptr)) + "." + host;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    path_ = attempt == 0 ? base : base + "." + std::to_string(attempt);
    fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && (errno != EEXIST || attempt >= 1000))
      throw UserError(path_ + ": cannot create TensorBoard event file: " + errno_text(errno));
  }
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    const int err = errno;
    ::close(fd);
    throw UserError(path_ + ": cannot open TensorBoard event file: " + errno_text(err));
  }
  std::string version;
  put_bytes(version, 3, "brain.Event:2");
  write_event(event_with(now_seconds(), 0, version));
  flush();
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  std::string v;
  put_key(v, 2, 5);
  put_fixed(v, static_cast<float>(value));
  write_value(tag, v, step);
}

void TensorBoardWriter::add_histogram(const std::string& tag, const std::vector<double>& values, int64_t step,
                                      int buckets) {
  TensorBoardHistogram h;
  h.min = std::numeric_limits<double>::infinity(), h.max = -h.min;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    h.min = std::min(h.min, v), h.max = std::max(h.max, v);
    h.num += 1, h.sum += v, h.sum_squares += v * v;
  }
  if (h.num == 0) return;
  buckets = std::max(1, buckets);
  const double width = h.max > h.min ? (h.max - h.min) / buckets : 1.0;
  h.bucket.assign(static_cast<size_t>(buckets), 0.0);
  for (int b = 0; b < buckets; ++b) h.bucket_limit.push_back(h.min + width * (b + 1));
  h.bucket_limit.back() = std::max(h.bucket_limit.back(), h.max);  // rounding must not drop the maximum
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    // Bucket b holds (min + b*width, min + (b+1)*width]; the minimum itself goes to bucket 0.
    h.bucket[static_cast<size_t>(std::clamp(std::ceil((v - h.min) / width) - 1, 0.0, buckets - 1.0))] += 1;
  }
  write_histogram(tag, h, step);
}

void TensorBoardWriter::add_index_histogram(const std::string& tag, const std::vector<double>& weights, int64_t step) {
  TensorBoardHistogram h;
  bool any = false;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double w = std::isfinite(weights[i]) ? weights[i] : 0.0, x = static_cast<double>(i);
    h.bucket_limit.push_back(x + 0.5);
    h.bucket.push_back(w);
    if (w <= 0) continue;
    if (!any) h.min = x;
    h.max = x, any = true;
    h.num += w, h.sum += w * x, h.sum_squares += w * x * x;
  }
  if (any) write_histogram(tag, h, step);
}

void TensorBoardWriter::write_histogram(const std::string& tag, const TensorBoardHistogram& h, int64_t step) {
  std::string histo;
  const double fields[] = {h.min, h.max, h.num, h.sum, h.sum_squares};
  for (int f = 0; f < 5; ++f) {
    put_key(histo, f + 1, 1);
    put_fixed(histo, fields[f]);
  }
  for (const auto* list : {&h.bucket_limit, &h.bucket}) {
    std::string packed;
    for (double v : *list) put_fixed(packed, v);
    put_bytes(histo, list == &h.bucket_limit ? 6 : 7, packed);
  }
  std::string v;
  put_bytes(v, 5, histo);
  write_value(tag, v, step);
}

void TensorBoardWriter::write_value(const std::string& tag, const std::string& value_fields, int64_t step) {
  std::string v;
  put_bytes(v, 1, tag);
  v += value_fields;
  std::string summary;
  put_bytes(summary, 1, v);
  std::string rest;
  put_bytes(rest, 5, summary);
  write_event(event_with(now_seconds(), step, rest));
  flush();
}

void TensorBoardWriter::flush() {
  if (std::fflush(file_) != 0)
    throw UserError(path_ + ": cannot write TensorBoard event file: " + errno_text(errno));
}

void TensorBoardWriter::write_event(const std::string& event) {
  const std::string record = tfrecord_frame(event);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size())
    throw UserError(path_ + ": cannot write TensorBoard event file: " + errno_text(errno));
}

namespace {

Decoded read_events(const std::string& path) {
  const std::string file = io::read_file(path);
  Decoded decoded;
  size_t pos = 0;
  for (int record = 0; pos < file.size(); ++record) {
    auto fail = [&](const std::string& problem) {
      throw UserError(path + ": record " + std::to_string(record) + " (byte " +
                      std::to_string(pos) + "): " + problem);
    };
    if (file.size() - pos < 12) fail("truncated record header");
    const std::string length_bytes = file.substr(pos, 8);
    uint64_t length;
    uint32_t length_crc, data_crc;
    std::memcpy(&length, length_bytes.data(), 8);
    std::memcpy(&length_crc, file.data() + pos + 8, 4);
    if (masked_crc32c(length_bytes) != length_crc) fail("length checksum mismatch");
    if (length > file.size() - pos - 12 || file.size() - pos - 12 - length < 4)
      fail("truncated record: " + std::to_string(length) + " data bytes announced");
    const std::string data = file.substr(pos + 12, length);
    std::memcpy(&data_crc, file.data() + pos + 12 + length, 4);
    if (masked_crc32c(data) != data_crc) fail("data checksum mismatch");
    try {
      decode_event(data, decoded);
    } catch (const Malformed& m) {
      fail("malformed Event protobuf: " + m.what);
    }
    pos += 12 + length + 4;
  }
  return decoded;
}

}  // namespace

std::vector<TensorBoardScalar> read_tensorboard_scalars(const std::string& path) {
  return read_events(path).scalars;
}

std::vector<TensorBoardHistogram> read_tensorboard_histograms(const std::string& path) {
  return read_events(path).histograms;
}


}  // namespace attnlab::logging
