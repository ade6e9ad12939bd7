// safetensors reader and writer; the format is described in safetensors.h.
//
// Writer layout follows the reference implementation (safetensors 0.4, `prepare` + `Metadata`
// serialisation) so a file is byte-identical to Python's `save_file`: tensors sorted by dtype
// (descending in the reference's enum order) then by name, packed back to back; header JSON is
// compact, "__metadata__" first, each entry {"dtype","shape","data_offsets"} in that key order,
// then space-padded to a multiple of 8 bytes.
//
// The reader trusts nothing: every check the reference's `validate` makes, plus duplicate JSON
// keys (which a plain JSON parser would silently merge) and BOOL bytes other than 0/1 (a torch
// bool tensor holding 2 is undefined behaviour downstream).
#include "framework/io/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "framework/errors.h"
#include "framework/io/files.h"

namespace attnlab::io {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors stores little-endian data; this code copies raw bytes");

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  // Position in the reference's `Dtype` enum (BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16,
  // BF16, I32, U32, F32, F64, I64, U64): the writer's sort key.
  int reference_rank;
};

constexpr DtypeInfo kDtypes[] = {
    {"BOOL", torch::kBool, 0},   {"U8", torch::kByte, 1},       {"I8", torch::kChar, 2},
    {"I16", torch::kShort, 5},   {"F16", torch::kHalf, 7},      {"BF16", torch::kBFloat16, 8},
    {"I32", torch::kInt, 9},     {"F32", torch::kFloat, 11},    {"F64", torch::kDouble, 12},
    {"I64", torch::kLong, 13},
};

const DtypeInfo* dtype_by_name(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeInfo* dtype_by_type(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return &d;
  return nullptr;
}

constexpr const char* kDtypeList = "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL";

uint64_t read_u64_le(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// One tensor's header entry after validation.
struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

}  // namespace

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  auto fail = [&](const std::string& problem) {
    throw UserError(path + ": cannot write safetensors: " + problem);
  };

  struct Item {
    const std::string* name;
    const DtypeInfo* dtype;
    torch::Tensor data;  // contiguous CPU
  };
  std::vector<Item> items;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") fail("'__metadata__' is reserved and cannot name a tensor");
    if (!seen.insert(name).second) fail("duplicate tensor name '" + name + "'");
    if (!tensor.defined()) fail("tensor '" + name + "' is undefined");
    const DtypeInfo* dtype = dtype_by_type(tensor.scalar_type());
    if (dtype == nullptr)
      fail("tensor '" + name + "' has dtype " + std::string(c10::toString(tensor.scalar_type())) +
           ", which safetensors here does not store (supported: " + kDtypeList + ")");
    items.push_back({&name, dtype, tensor.detach().to(torch::kCPU).contiguous()});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.dtype->reference_rank != b.dtype->reference_rank)
      return a.dtype->reference_rank > b.dtype->reference_rank;
    return *a.name < *b.name;
  });

  // ordered_json keeps insertion order, which the byte-exact layout needs.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const auto& item : items) {
    const uint64_t nbytes = static_cast<uint64_t>(item.data.numel()) * item.data.element_size();
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = item.dtype->name;
    entry["shape"] = item.data.sizes().vec();
    entry["data_offsets"] = std::vector<uint64_t>{offset, offset + nbytes};
    header[*item.name] = std::move(entry);
    offset += nbytes;
  }
  std::string json;
  try {
    json = header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
  } catch (const nlohmann::ordered_json::exception&) {
    fail("a tensor name or metadata string is not valid UTF-8");
  }
  json.append((8 - json.size() % 8) % 8, ' ');

  std::string bytes;
  bytes.reserve(8 + json.size() + offset);
  const uint64_t n = json.size();
  bytes.append(reinterpret_cast<const char*>(&n), 8);
  bytes += json;
  for (const auto& item : items) {
    const size_t nbytes = static_cast<size_t>(item.data.numel()) * item.data.element_size();
    if (nbytes > 0) bytes.append(static_cast<const char*>(item.data.data_ptr()), nbytes);
  }
  write_file_atomic(path, bytes);
}

SafetensorsFile read_safetensors(const std::string& path) {
  const std::string file = read_file(path);
  auto fail = [&](const std::string& problem) {
    throw UserError(path + ": not a valid safetensors file: " + problem);
  };

  if (file.size() < 8)
    fail("file is " + std::to_string(file.size()) + " bytes, shorter than the 8-byte header length");
  const uint64_t header_len = read_u64_le(file.data());
  if (header_len > file.size() - 8)
    fail("header length " + std::to_string(header_len) + " runs past the end of the file (" +
         std::to_string(file.size() - 8) + " bytes follow the length)");

  // A JSON parser merges duplicate keys (last wins); the callback sees every key first, so a
  // stack of key sets, one per open object, catches duplicates at any depth.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  nlohmann::json::parser_callback_t on_event = [&](int, nlohmann::json::parse_event_t event,
                                                   nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      open_objects.emplace_back();
    } else if (event == E::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == E::key && !open_objects.empty() && duplicate.empty()) {
      const std::string key = parsed.get<std::string>();
      if (!open_objects.back().insert(key).second) duplicate = key;
    }
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(file.begin() + 8, file.begin() + 8 + header_len, on_event);
  } catch (const nlohmann::json::parse_error& e) {
    fail(std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) fail("header is JSON but not an object");
  if (!duplicate.empty()) fail("header has the key '" + duplicate + "' more than once");

  SafetensorsFile result;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail("'__metadata__' is not an object");
      for (const auto& [key, v] : value.items()) {
        if (!v.is_string()) fail("metadata value of '" + key + "' is not a string");
        result.metadata[key] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "': ";
    if (!value.is_object()) fail(where + "entry is not an object");
    // Keys other than the three are ignored, as the reference does, for forward compatibility.
    for (const char* key : {"dtype", "shape", "data_offsets"})
      if (!value.contains(key)) fail(where + "missing \"" + key + "\"");
    Entry e;
    e.name = name;
    const auto& dtype = value["dtype"];
    if (!dtype.is_string()) fail(where + "dtype is not a string");
    e.dtype = dtype_by_name(dtype.get<std::string>());
    if (e.dtype == nullptr)
      fail(where + "unknown dtype '" + dtype.get<std::string>() + "' (supported: " + kDtypeList +
           ")");

    const auto& shape = value["shape"];
    if (!shape.is_array()) fail(where + "shape is not a list of non-negative integers");
    uint64_t numel = 1;
    for (const auto& dim : shape) {
      // nlohmann stores non-negative integer literals as unsigned; -1, 2.0 and "2" are not.
      if (!dim.is_number_unsigned() ||
          dim.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(where + "shape " + shape.dump() + " is not a list of non-negative integers");
      const uint64_t d = dim.get<uint64_t>();
      if (__builtin_mul_overflow(numel, d, &numel))
        fail(where + "shape " + shape.dump() + " has more elements than 2^64");
      e.shape.push_back(static_cast<int64_t>(d));
    }

    const auto& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      fail(where + "data_offsets " + offsets.dump() + " is not [begin, end]");
    e.begin = offsets[0].get<uint64_t>();
    e.end = offsets[1].get<uint64_t>();
    if (e.begin > e.end)
      fail(where + "data_offsets " + offsets.dump() + " has begin after end");
    const uint64_t itemsize = c10::elementSize(e.dtype->type);
    uint64_t expected;
    if (__builtin_mul_overflow(numel, itemsize, &expected) || e.end - e.begin != expected)
      fail(where + "data_offsets " + offsets.dump() + " span " + std::to_string(e.end - e.begin) +
           " bytes but shape " + shape.dump() + " of " + e.dtype->name + " needs " +
           std::to_string(numel) + " x " + std::to_string(itemsize));
    entries.push_back(std::move(e));
  }

  // The buffer must be tiled exactly: sorted by offset, each tensor starts where the last ended.
  const uint64_t buffer_size = file.size() - 8 - header_len;
  for (const auto& e : entries)
    if (e.end > buffer_size)
      fail("tensor '" + e.name + "': data_offsets [" + std::to_string(e.begin) + ", " +
           std::to_string(e.end) + "] run past the " + std::to_string(buffer_size) +
           "-byte buffer");
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t cursor = 0;
  const Entry* previous = nullptr;
  for (const auto& e : entries) {
    if (e.begin < cursor)
      fail("tensors '" + previous->name + "' and '" + e.name + "' overlap in the buffer");
    if (e.begin > cursor)
      fail("buffer bytes [" + std::to_string(cursor) + ", " + std::to_string(e.begin) +
           ") belong to no tensor");
    cursor = e.end;
    previous = &e;
  }
  if (cursor < buffer_size)
    fail("buffer bytes [" + std::to_string(cursor) + ", " + std::to_string(buffer_size) +
         ") belong to no tensor");

  const char* buffer = file.data() + 8 + header_len;
  for (const auto& e : entries) {
    const char* data = buffer + e.begin;
    const size_t nbytes = e.end - e.begin;
    if (e.dtype->type == torch::kBool)
      for (size_t i = 0; i < nbytes; ++i)
        if (data[i] != 0 && data[i] != 1)
          fail("tensor '" + e.name + "': BOOL byte " + std::to_string(i) + " is " +
               std::to_string(static_cast<unsigned char>(data[i])) + ", not 0 or 1");
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->type));
    if (nbytes > 0) std::memcpy(t.data_ptr(), data, nbytes);
    result.tensors.emplace_back(e.name, std::move(t));
  }
  return result;
}

}  // namespace attnlab::io
