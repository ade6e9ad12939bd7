// CRC32C against published check values (the "123456789" check and the iSCSI vectors of
// RFC 3720 B.4), against a bit-at-a-time reference at every length and alignment the sliced
// loop distinguishes, and the incremental identity crc(a ++ b) = crc(b, crc(a)).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "framework/io/files.h"

namespace attnlab::io {
namespace {

// The definition, one bit at a time: the oracle for the table-driven implementation.
uint32_t reference_crc32c(const unsigned char* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

TEST(Crc32c, CheckValue) {
  EXPECT_EQ(crc32c(std::string("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string()), 0u);
}

TEST(Crc32c, Rfc3720Vectors) {
  std::vector<unsigned char> zeros(32, 0x00), ones(32, 0xFF), up(32), down(32);
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<unsigned char>(i);
    down[i] = static_cast<unsigned char>(31 - i);
  }
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c(up.data(), up.size()), 0x46DD794Eu);
  EXPECT_EQ(crc32c(down.data(), down.size()), 0x113FDB5Cu);
}

TEST(Crc32c, MatchesBitwiseReferenceAtEveryLengthAndAlignment) {
  std::vector<unsigned char> buffer(100);
  uint32_t x = 12345;
  for (auto& b : buffer) b = static_cast<unsigned char>((x = x * 1103515245u + 12345u) >> 16);
  for (size_t offset = 0; offset < 8; ++offset)
    for (size_t n = 0; n + offset <= 80; ++n)
      ASSERT_EQ(crc32c(buffer.data() + offset, n), reference_crc32c(buffer.data() + offset, n))
          << "offset " << offset << " length " << n;
}

TEST(Crc32c, IncrementalEqualsOneShotAtEverySplit) {
  std::string bytes;
  for (int i = 0; i < 67; ++i) bytes.push_back(static_cast<char>(i * 37 + 11));
  const uint32_t whole = crc32c(bytes);
  for (size_t split = 0; split <= bytes.size(); ++split) {
    const uint32_t first = crc32c(bytes.data(), split);
    ASSERT_EQ(crc32c(bytes.data() + split, bytes.size() - split, first), whole) << split;
  }
}

TEST(Crc32c, DetectsEverySingleByteChange) {
  const std::string original(40, 'a');
  const uint32_t expected = crc32c(original);
  for (size_t i = 0; i < original.size(); ++i) {
    std::string changed = original;
    changed[i] = 'b';
    EXPECT_NE(crc32c(changed), expected) << i;
  }
}

}  // namespace
}  // namespace attnlab::io
