#include "framework/io/npy.h"

#include <cstdint>
#include <cstring>
#include <regex>
#include <vector>

#include "framework/errors.h"
#include "framework/io/files.h"

namespace attnlab::io {
namespace {

const char kMagic[] = "\x93NUMPY";

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// The header is a Python dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
Header parse_header(const std::string& text, const std::string& path) {
  Header h;
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(R"('descr'\s*:\s*'([^']*)')"))) {
    throw UserError(path + ": .npy header has no 'descr'");
  }
  h.descr = m[1];
  if (!std::regex_search(text, m, std::regex(R"('fortran_order'\s*:\s*(True|False))"))) {
    throw UserError(path + ": .npy header has no 'fortran_order'");
  }
  h.fortran_order = m[1] == "True";
  if (!std::regex_search(text, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))"))) {
    throw UserError(path + ": .npy header has no 'shape'");
  }
  const std::string dims = m[1];
  std::regex number(R"(\d+)");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number); it != std::sregex_iterator(); ++it) {
    h.shape.push_back(std::stoll(it->str()));
  }
  return h;
}

// (torch dtype, item size) of a little-endian or byte-sized descr; UserError otherwise.
std::pair<torch::ScalarType, size_t> dtype_of(const std::string& descr, const std::string& path) {
  static const std::vector<std::pair<std::string, std::pair<torch::ScalarType, size_t>>> known = {
      {"<f8", {torch::kFloat64, 8}}, {"<f4", {torch::kFloat32, 4}}, {"<i8", {torch::kInt64, 8}},
      {"<i4", {torch::kInt32, 4}},   {"|u1", {torch::kUInt8, 1}},   {"|b1", {torch::kBool, 1}},
      {"|i1", {torch::kInt8, 1}},    {"<i2", {torch::kInt16, 2}}};
  for (const auto& [name, type] : known)
    if (name == descr) return type;
  throw UserError(path + ": .npy dtype '" + descr +
                  "' is not supported (use little-endian float32/float64, int8/16/32/64, uint8 or bool)");
}

}  // namespace

torch::Tensor read_npy(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic, 6) != 0) {
    throw UserError(path + ": not a NumPy .npy file (no \\x93NUMPY magic)");
  }
  const auto major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw UserError(path + ": truncated .npy header");
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[8 + i]);
    offset = 12;
  } else {
    throw UserError(path + ": unsupported .npy format version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) throw UserError(path + ": truncated .npy header");
  const Header h = parse_header(bytes.substr(offset, header_len), path);
  if (h.fortran_order) throw UserError(path + ": Fortran-order .npy arrays are not supported (save with np.ascontiguousarray)");
  const auto [type, item] = dtype_of(h.descr, path);
  int64_t count = 1;
  for (int64_t d : h.shape) count *= d;
  const size_t data_at = offset + header_len;
  const size_t need = static_cast<size_t>(count) * item;
  if (bytes.size() - data_at < need) {
    throw UserError(path + ": .npy payload has " + std::to_string(bytes.size() - data_at) + " bytes, its shape needs " +
                    std::to_string(need));
  }
  torch::Tensor raw = torch::empty(h.shape, torch::TensorOptions().dtype(type));
  if (need) std::memcpy(raw.data_ptr(), bytes.data() + data_at, need);
  const bool floating = type == torch::kFloat32 || type == torch::kFloat64;
  return raw.to(floating ? torch::kFloat64 : torch::kInt64);
}

void write_npy(const std::string& path, const torch::Tensor& tensor) {
  // The tensor's own dtype when .npy has it (so Python sees float32 features as float32 and a
  // mask as bool); other floating types as float64, other integers as int64.
  static const std::pair<torch::ScalarType, const char*> kKept[] = {
      {torch::kFloat64, "<f8"}, {torch::kFloat32, "<f4"}, {torch::kInt64, "<i8"},
      {torch::kInt32, "<i4"},   {torch::kUInt8, "|u1"},   {torch::kBool, "|b1"}};
  torch::ScalarType type = tensor.is_floating_point() ? torch::kFloat64 : torch::kInt64;
  const char* descr = tensor.is_floating_point() ? "<f8" : "<i8";
  for (const auto& [kept, text] : kKept)
    if (tensor.scalar_type() == kept) type = kept, descr = text;
  const torch::Tensor data = tensor.to(torch::kCPU, type).contiguous();
  std::string shape;  // Python tuple syntax: "()", "(3,)", "(3, 4)"
  for (int64_t i = 0; i < data.dim(); ++i) shape += (i ? ", " : "") + std::to_string(data.size(i));
  if (data.dim() == 1) shape += ",";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Pad with spaces so magic + version + length + header + '\n' is a multiple of 64 bytes.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out(kMagic, 6);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>((header.size() >> 8) & 0xff));
  out += header;
  out.append(static_cast<const char*>(data.data_ptr()), static_cast<size_t>(data.nbytes()));
  write_file_atomic(path, out);
}

}  // namespace attnlab::io
