// .npy reading and writing: a round trip, a float32 file built byte by byte as NumPy writes it,
// and the errors for what the reader refuses.
#include <gtest/gtest.h>

#include <string>

#include "framework/io/files.h"
#include "framework/io/npy.h"
#include "tests/support/files.h"
#include "tests/support/user_error.h"

namespace attnlab::io {
namespace {

using testing::TempDir;

// What np.save writes for np.array([[1.5, -2], [3, 4]], dtype="<f4"), with header `dict`.
std::string npy_bytes(const std::string& dict, const std::string& payload) {
  std::string header = dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + payload;
}
std::string float32_payload(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) s.append(reinterpret_cast<const char*>(&v), sizeof v);
  return s;
}

TEST(Npy, RoundTripKeepsShapeTypeAndValues) {
  TempDir dir;
  const auto floats = torch::arange(12, torch::kFloat64).view({3, 4}) / 7.0;
  write_npy(dir / "f.npy", floats);
  EXPECT_TRUE(read_npy(dir / "f.npy").equal(floats));
  const auto ints = torch::tensor({3, 0, -2}, torch::kLong);
  write_npy(dir / "i.npy", ints);
  const auto back = read_npy(dir / "i.npy");
  EXPECT_EQ(back.scalar_type(), torch::kInt64);
  EXPECT_TRUE(back.equal(ints));
  const std::string bytes = read_file(dir / "i.npy");
  EXPECT_NE(bytes.find("'shape': (3,)"), std::string::npos);  // Python tuple syntax
  EXPECT_EQ((bytes.find('\n') + 1) % 64, 0u);                  // header padded to 64 bytes
}

TEST(Npy, WritesFloat32AndBoolAsNumpyWould) {
  TempDir dir;
  write_npy(dir / "f4.npy", torch::tensor({1.5f, -2.0f, 3.0f, 4.0f}).view({2, 2}));
  EXPECT_EQ(read_file(dir / "f4.npy"),
            npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", float32_payload({1.5f, -2.0f, 3.0f, 4.0f})));
  const auto mask = torch::tensor({1, 0, 1}, torch::kLong).to(torch::kBool);
  write_npy(dir / "b.npy", mask);
  EXPECT_EQ(read_file(dir / "b.npy"),
            npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x01\x00\x01", 3)));
  EXPECT_TRUE(read_npy(dir / "b.npy").equal(torch::tensor({1, 0, 1}, torch::kLong)));
  // A dtype .npy lacks here goes out widened: float16 as float64.
  write_npy(dir / "h.npy", torch::tensor({0.5}, torch::kFloat16));
  EXPECT_NE(read_file(dir / "h.npy").find("'descr': '<f8'"), std::string::npos);
}

TEST(Npy, ReadsFloat32AsNumpyWritesIt) {
  TempDir dir;
  const std::string path = testing::write_file(
      dir, "a.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                              float32_payload({1.5f, -2.0f, 3.0f, 4.0f})));
  const auto t = read_npy(path);
  EXPECT_EQ(t.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(t.equal(torch::tensor({1.5, -2.0, 3.0, 4.0}, torch::kFloat64).view({2, 2})));
}

TEST(Npy, RefusesWhatItCannotReadWithTheFileName) {
  TempDir dir;
  auto error_for = [&](const std::string& name, const std::string& bytes) {
    const std::string path = testing::write_file(dir, name, bytes);
    return testing::user_error_of([&] { read_npy(path); });
  };
  EXPECT_NE(error_for("text.npy", "label,a,b\n").find("text.npy: not a NumPy .npy file"), std::string::npos);
  EXPECT_NE(error_for("big.npy", npy_bytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                                           std::string(8, '\0')))
                .find("dtype '>f8' is not supported"),
            std::string::npos);
  EXPECT_NE(error_for("fortran.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                                               float32_payload({1, 2, 3, 4})))
                .find("Fortran-order"),
            std::string::npos);
  EXPECT_NE(error_for("short.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                                             float32_payload({1, 2, 3})))
                .find("payload has 12 bytes, its shape needs 16"),
            std::string::npos);
}

}  // namespace
}  // namespace attnlab::io
