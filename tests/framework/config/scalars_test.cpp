// Scalars read as booleans, integers and floats by the YAML 1.2 core schema; quoted text is
// never a number or a boolean.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/config/section.h"

namespace attnlab::config {
namespace {

Value plain(const std::string& text) { return Value::scalar(text); }
Value quoted(const std::string& text) { return Value::scalar(text, {}, true); }

TEST(ConfigScalars, Booleans) {
  for (const char* t : {"true", "True", "TRUE"}) EXPECT_EQ(parse_bool(plain(t)), true) << t;
  for (const char* t : {"false", "False", "FALSE"}) EXPECT_EQ(parse_bool(plain(t)), false) << t;
  for (const char* t : {"yes", "no", "on", "1", "tRue", ""})
    EXPECT_EQ(parse_bool(plain(t)), std::nullopt) << t;
  EXPECT_EQ(parse_bool(quoted("true")), std::nullopt);
  EXPECT_EQ(parse_bool(Value::map()), std::nullopt);
}

TEST(ConfigScalars, Integers) {
  EXPECT_EQ(parse_int(plain("42")), 42);
  EXPECT_EQ(parse_int(plain("-7")), -7);
  EXPECT_EQ(parse_int(plain("+7")), 7);
  EXPECT_EQ(parse_int(plain("0x1F")), 31);
  EXPECT_EQ(parse_int(plain("0o17")), 15);
  EXPECT_EQ(parse_int(plain("9223372036854775807")), INT64_MAX);
  for (const char* t :
       {"1.5", "1e3", "0x", "0o8", "ten", "", "-", "1_000", " 1", "9223372036854775808"})
    EXPECT_EQ(parse_int(plain(t)), std::nullopt) << t;
  EXPECT_EQ(parse_int(quoted("5")), std::nullopt);
  EXPECT_EQ(parse_int(Value()), std::nullopt);
}

TEST(ConfigScalars, Floats) {
  EXPECT_EQ(parse_float(plain("1.5")), 1.5);
  EXPECT_EQ(parse_float(plain("1e-3")), 1e-3);
  EXPECT_EQ(parse_float(plain("1.0e-3")), 1e-3);
  EXPECT_EQ(parse_float(plain("-.5")), -0.5);
  EXPECT_EQ(parse_float(plain("+2.")), 2.0);
  EXPECT_EQ(parse_float(plain("3")), 3.0);  // integers are numbers too
  EXPECT_EQ(parse_float(plain("0x10")), 16.0);
  EXPECT_EQ(parse_float(plain(".inf")), INFINITY);
  EXPECT_EQ(parse_float(plain("-.Inf")), -INFINITY);
  ASSERT_TRUE(parse_float(plain(".nan")).has_value());
  EXPECT_TRUE(std::isnan(*parse_float(plain(".NaN"))));
  for (const char* t : {"inf", "nan", "1e", "e3", ".", "1.2.3", "fast", "", "1e999"})
    EXPECT_EQ(parse_float(plain(t)), std::nullopt) << t;
  EXPECT_EQ(parse_float(quoted("1.5")), std::nullopt);
}

}  // namespace
}  // namespace attnlab::config
