// safetensors (the Hugging Face tensor file format), read and written without Python:
//
//   [8 bytes]  N, the header length, unsigned 64-bit little-endian
//   [N bytes]  UTF-8 JSON object:
//                { "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//                  "__metadata__": {"<key>": "<string value>", ...} }      (metadata optional)
//              padded with trailing spaces so the buffer starts 8-byte aligned
//   [rest]     the byte buffer: every tensor row-major, little-endian, at [begin, end) relative to
//              the buffer start; tensors tile the buffer exactly (no overlaps, no holes).
//
// dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL (the ones LibTorch 1.13 and 2.x both have).
// The writer lays out and serialises exactly as the reference implementation (safetensors 0.4,
// Rust serialize / Python save_file) does, so files are byte-identical to Python's.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace attnlab::io {

struct SafetensorsFile {
  // In buffer order (ascending data offset), which is the order the writer chose.
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::map<std::string, std::string> metadata;
};

// Writes `tensors` (copied to contiguous CPU) and `metadata` to `path` atomically. Names must be
// unique and not "__metadata__"; dtypes must be one of the list above. Throws
// UserError "PATH: cannot write safetensors: <problem>".
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Reads and fully validates a safetensors file; anything malformed throws one UserError
// "PATH: not a valid safetensors file: <problem>".
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace attnlab::io
