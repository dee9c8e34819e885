#include "config_binder.h"

#include <charconv>
#include <sstream>

#include "config.h"

namespace junction::config_binder {

void Reader::fail(const YAML::Mark& m, const std::string& key, const std::string& what) const {
  std::string where = source_ + ":" + std::to_string(m.line >= 0 ? m.line + 1 : 1) + ": ";
  throw ConfigError(key.empty() ? where + what : where + "key '" + key + "': " + what);
}

std::string Reader::describe(const YAML::Node& n) {
  if (n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  if (n.Tag() != "?") return "a string";
  return "'" + n.Scalar() + "'";
}

std::string Field::string() const {
  if (!value.IsScalar()) fail("expected a string, got " + Reader::describe(value));
  return value.Scalar();
}

std::uint64_t Field::integer(std::uint64_t min, std::uint64_t max) const {
  if (!value.IsScalar() || value.Tag() != "?") fail("expected an integer, got " + Reader::describe(value));
  const std::string& s = value.Scalar();
  const std::string range = "must be between " + std::to_string(min) + " and " + std::to_string(max);
  if (!s.empty() && s[0] == '-') {
    std::int64_t neg = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), neg);
    if (ec == std::errc() && p == s.data() + s.size()) fail(range + ", got " + s);
    fail("expected an integer, got '" + s + "'");
  }
  std::uint64_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) fail(range + ", got " + s);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) fail("expected an integer, got '" + s + "'");
  if (out < min || out > max) fail(range + ", got " + s);
  return out;
}

double Field::number(double min, double max) const {
  if (!value.IsScalar() || value.Tag() != "?") fail("expected a number, got " + Reader::describe(value));
  const std::string& s = value.Scalar();
  double out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !(out == out))
    fail("expected a number, got '" + s + "'");
  if (out < min || out > max) {
    std::ostringstream range;
    range << "must be between " << min << " and " << max << ", got " << s;
    fail(range.str());
  }
  return out;
}

bool Field::boolean() const {
  if (value.IsScalar() && value.Tag() == "?") {
    const std::string& s = value.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  fail("expected true or false, got " + Reader::describe(value));
}

void Field::expect_map() const {
  if (!value.IsMap()) fail("expected a map, got " + Reader::describe(value));
}

void Field::expect_list() const {
  if (!value.IsSequence()) fail("expected a list, got " + Reader::describe(value));
}

Field Field::at(std::size_t i) const {
  return Field{reader, key + "[" + std::to_string(i) + "]", name, value[i], true};
}

std::string not_empty(const std::string& s) { return s.empty() ? "must not be empty" : ""; }

std::string Section::key(const std::string& sub) const {
  if (sub.empty()) return field_.key;
  return field_.key.empty() ? sub : field_.key + "." + sub;
}

const Section::Seen* Section::find(const std::string& name) const {
  for (const auto& s : seen_)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace junction::config_binder
