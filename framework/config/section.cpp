// Typed reads from a validated section. Validation has already filled defaults and checked every
// type, so a read that fails here is a bug in the component (reading a key its schema does not
// declare, or as the wrong type): std::logic_error, never a UserError.
#include "framework/config/section.h"

#include <stdexcept>

#include "framework/config/key_path.h"

namespace attnlab::config {

namespace {

[[noreturn]] void internal(const std::string& path, const std::string& what) {
  throw std::logic_error("internal error: recipe key '" + path + "' " + what +
                         " (does the component's schema declare it with this type?)");
}

template <typename T, typename Parse>
T read(const Value& v, const std::string& path, Parse parse, const char* type) {
  auto parsed = parse(v);
  if (!parsed) internal(path, std::string("is not ") + type);
  return *parsed;
}

template <typename T, typename Parse>
std::vector<T> read_list(const Value& v, const std::string& path, Parse parse, const char* type) {
  if (!v.is_list()) internal(path, "is not a list");
  std::vector<T> out;
  for (size_t i = 0; i < v.items().size(); ++i)
    out.push_back(read<T>(v.items()[i], join_path(path, std::to_string(i)), parse, type));
  return out;
}

std::optional<std::string> text_of(const Value& v) {
  if (!v.is_scalar()) return std::nullopt;
  return v.text();
}

}  // namespace

Section::Section(const Value* node, std::string path) : node_(node), path_(std::move(path)) {
  if (!node_ || !node_->is_map()) internal(path_, "is not a map");
}

bool Section::has(const std::string& key) const {
  const Value* v = node_->find(key);
  return v && !v->is_null();
}

const Value& Section::at(const std::string& key) const {
  const Value* v = node_->find(key);
  if (!v) internal(join_path(path_, key), "is missing");
  return *v;
}

bool Section::get_bool(const std::string& key) const {
  return read<bool>(at(key), join_path(path_, key), parse_bool, "a boolean");
}

int64_t Section::get_int(const std::string& key) const {
  return read<int64_t>(at(key), join_path(path_, key), parse_int, "an integer");
}

double Section::get_float(const std::string& key) const {
  return read<double>(at(key), join_path(path_, key), parse_float, "a number");
}

std::string Section::get_string(const std::string& key) const {
  return read<std::string>(at(key), join_path(path_, key), text_of, "a string");
}

std::vector<int64_t> Section::get_int_list(const std::string& key) const {
  return read_list<int64_t>(at(key), join_path(path_, key), parse_int, "an integer");
}

std::vector<double> Section::get_float_list(const std::string& key) const {
  return read_list<double>(at(key), join_path(path_, key), parse_float, "a number");
}

std::vector<std::string> Section::get_string_list(const std::string& key) const {
  return read_list<std::string>(at(key), join_path(path_, key), text_of, "a string");
}

Section Section::sub(const std::string& key) const {
  return Section(&at(key), join_path(path_, key));
}

std::vector<Section> Section::sub_list(const std::string& key) const {
  const Value& list = at(key);
  const std::string path = join_path(path_, key);
  if (!list.is_list()) internal(path, "is not a list");
  std::vector<Section> out;
  for (size_t i = 0; i < list.items().size(); ++i)
    out.emplace_back(&list.items()[i], join_path(path, std::to_string(i)));
  return out;
}

const Origin& Section::origin(const std::string& key) const { return at(key).origin(); }

std::string Section::where(const std::string& key) const {
  // An optional key that was never given is best located by its section.
  const Value* v = node_->find(key);
  std::string origin = (v ? v->origin() : node_->origin()).str();
  std::string path = join_path(path_, key);
  return origin.empty() ? path : origin + ": " + path;
}

}  // namespace attnlab::config
