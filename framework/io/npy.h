// NumPy .npy files (format versions 1.0, 2.0 and 3.0), the arrays users export from Python:
// little-endian float32/float64 and int32/int64/uint8/bool, C order, any rank. Enough to read a
// model's logits and labels and to write them back (calibration caches), nothing more.
#pragma once

#include <torch/torch.h>

#include <string>

namespace attnlab::io {

// Throws UserError "PATH: ..." naming what is wrong: not a .npy file, an unsupported dtype
// (big-endian, complex, object...), Fortran order, a header that does not parse, or a payload
// shorter than the shape says. The tensor is float64 for float data, int64 for integer/bool.
torch::Tensor read_npy(const std::string& path);

// Writes a C-order array, version 1.0, atomically, in the tensor's dtype when it is float64,
// float32, int64, int32, uint8 or bool; other floating types as float64, other integers as int64.
void write_npy(const std::string& path, const torch::Tensor& tensor);

}  // namespace attnlab::io
