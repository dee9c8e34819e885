// junction::config_binder — the declarative reading of a YAML map into a
// struct, used by every section reader of config*.cpp (internal to the
// config library).
//
// A Binder<T> lists a section's keys once, each with its type, range or
// check and the member it fills:
//
//   Binder<StoreConfig>()
//       .string("path", &StoreConfig::path, not_empty)
//       .choice("durability", &StoreConfig::durability, named(kDurabilities, durability_name))
//       .integer("sync_interval_ms", &StoreConfig::sync_interval_ms, 1, 3600000)
//       .check([](const Section& s, StoreConfig& c) { ... cross-key rules ... });
//
// read() visits each key of the map once: a key outside the table is an
// error that lists the table's keys, a repeated key is an error, and each
// value is parsed by its entry. Then the checks run (required keys, keys
// that need one another); a Section tells them which keys were present and
// where. Every error is "FILE:LINE: key 'section.key': problem"
// (Reader::fail), the texts conf/junction.yaml's users and the tests see.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace junction::config_binder {

// One document: knows the file name for messages.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  // "FILE:LINE: key 'KEY': WHAT", or "FILE:LINE: WHAT" when key is empty.
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& key, const std::string& what) const;
  // "nothing", "a list", "a map", "a string" (quoted) or 'the text'.
  static std::string describe(const YAML::Node& n);

 private:
  std::string source_;
};

// One key's value (or one item of a list value), with what messages need.
struct Field {
  const Reader* reader;
  std::string key;    // full name for messages: "listeners[0].tls.cert_file"
  YAML::Node name;    // the key node (an item's: its list's key)
  YAML::Node value;
  bool item = false;  // a list item, not a key's value

  // Where a problem with the value is reported: a null value has no useful
  // mark of its own (yaml-cpp puts it on the next token), so its key's.
  YAML::Mark mark() const { return value.IsNull() ? name.Mark() : value.Mark(); }
  [[noreturn]] void fail(const std::string& what) const { reader->fail(mark(), key, what); }

  std::string string() const;
  std::uint64_t integer(std::uint64_t min, std::uint64_t max) const;
  double number(double min, double max) const;
  bool boolean() const;
  void expect_map() const;
  void expect_list() const;
  // The i-th item of a list value: key "key[i]".
  Field at(std::size_t i) const;
};

// A string value's check: "" when it is acceptable, otherwise the problem.
using Validate = std::string (*)(const std::string&);
std::string not_empty(const std::string& s);

// What a section's checks see once its keys are read.
class Section {
 public:
  struct Seen {
    std::string name;
    YAML::Node key, value;
  };
  Section(const Field& field, std::vector<Seen> seen) : field_(field), seen_(std::move(seen)) {}

  const Field& field() const { return field_; }
  bool has(const std::string& name) const { return find(name) != nullptr; }
  // Where the key `name` (which must be present) and its value are.
  YAML::Mark key_mark(const std::string& name) const { return find(name)->key.Mark(); }
  YAML::Mark value_mark(const std::string& name) const { return find(name)->value.Mark(); }
  // Where the section is: its map (for a missing key), its own key.
  YAML::Mark map_mark() const { return field_.value.Mark(); }
  YAML::Mark own_key_mark() const { return field_.name.Mark(); }
  // The 1-based line it was defined on: a list item's own, a section's key.
  int line() const { return (field_.item ? field_.value.Mark() : field_.name.Mark()).line + 1; }
  // "section.sub" (or "section" for an empty sub).
  std::string key(const std::string& sub) const;
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& sub, const std::string& what) const {
    field_.reader->fail(m, key(sub), what);
  }

 private:
  const Seen* find(const std::string& name) const;
  Field field_;
  std::vector<Seen> seen_;
};

// The choices of an enumerated key: the config text of each value.
template <typename E>
using Choices = std::vector<std::pair<std::string, E>>;

// Choices named by an enum's name function (durability_name, ...).
template <typename E, typename Name>
Choices<E> named(std::initializer_list<E> values, Name name) {
  Choices<E> out;
  for (E v : values) out.emplace_back(name(v), v);
  return out;
}

// "a or b" / "a, b or c" (last_sep " or "), or "a, b, c" (last_sep ", ").
template <typename E>
std::string join_names(const Choices<E>& c, const char* last_sep) {
  std::string s;
  for (std::size_t i = 0; i < c.size(); ++i) s += (i == 0 ? "" : i + 1 == c.size() ? last_sep : ", ") + c[i].first;
  return s;
}

template <typename T>
class Binder {
 public:
  using Parse = std::function<void(const Field&, T&)>;
  using Check = std::function<void(const Section&, T&)>;

  // Any value: parse(field, out) reads it (and fails through field.fail).
  Binder& custom(std::string name, Parse parse) {
    rules_.push_back({std::move(name), std::move(parse)});
    return *this;
  }

  // An unsigned integer in [min, max] ("must be between MIN and MAX, got V").
  template <typename M>
  Binder& integer(std::string name, M T::*member, std::uint64_t min, std::uint64_t max) {
    static_assert(std::is_integral_v<M> && std::is_unsigned_v<M>);
    if (max > std::numeric_limits<M>::max() || min > max) throw std::logic_error("config key " + name + ": bad range");
    return custom(std::move(name),
                  [=](const Field& f, T& out) { out.*member = static_cast<M>(f.integer(min, max)); });
  }

  // A number (integer or decimal) in [min, max].
  Binder& number(std::string name, double T::*member, double min, double max) {
    return custom(std::move(name), [=](const Field& f, T& out) { out.*member = f.number(min, max); });
  }

  Binder& boolean(std::string name, bool T::*member) {
    return custom(std::move(name), [=](const Field& f, T& out) { out.*member = f.boolean(); });
  }

  Binder& string(std::string name, std::string T::*member, Validate validate = nullptr) {
    return custom(std::move(name), [=](const Field& f, T& out) { out.*member = checked_string(f, validate); });
  }

  // A list of strings, each checked by `validate`; replaces the default.
  Binder& strings(std::string name, std::vector<std::string> T::*member, Validate validate = nullptr) {
    return custom(std::move(name), [=](const Field& f, T& out) {
      f.expect_list();
      std::vector<std::string> v;
      for (std::size_t i = 0; i < f.value.size(); ++i) v.push_back(checked_string(f.at(i), validate));
      out.*member = std::move(v);
    });
  }

  // One of `choices`. The error reads "must be a or b (got 'x')", "must be
  // one of a, b, c (got 'x')", or with a noun "unknown NOUN 'x' (expected a,
  // b or c)".
  template <typename E>
  Binder& choice(std::string name, E T::*member, Choices<E> choices, const char* noun = nullptr) {
    return custom(std::move(name), [=](const Field& f, T& out) {
      const std::string s = f.string();
      for (const auto& [text, value] : choices) {
        if (s == text) {
          out.*member = value;
          return;
        }
      }
      if (noun) f.fail("unknown " + std::string(noun) + " '" + s + "' (expected " + join_names(choices, " or ") + ")");
      if (choices.size() == 2) f.fail("must be " + join_names(choices, " or ") + " (got '" + s + "')");
      f.fail("must be one of " + join_names(choices, ", ") + " (got '" + s + "')");
    });
  }

  // A nested map read into a member by its own binder.
  template <typename S>
  Binder& map(std::string name, S T::*member, Binder<S> inner) {
    return custom(std::move(name), [=](const Field& f, T& out) { inner.read(f, out.*member); });
  }
  // A nested map whose keys fill this same struct (bridges' outbox: ...).
  Binder& map(std::string name, Binder<T> inner) {
    return custom(std::move(name), [=](const Field& f, T& out) { inner.read(f, out); });
  }

  // A list of maps, each read by `item`.
  template <typename E>
  Binder& list(std::string name, std::vector<E> T::*member, Binder<E> item) {
    return custom(std::move(name), [=](const Field& f, T& out) {
      item.read_list(f, [&](E&& e, const Field&) { (out.*member).push_back(std::move(e)); });
    });
  }

  // Sets `member` to the line the map was defined on (Section::line).
  Binder& line(int T::*member) {
    line_ = member;
    return *this;
  }

  // Runs after every key is read, in the order given.
  Binder& check(Check c) {
    checks_.push_back(std::move(c));
    return *this;
  }

  // The keys, in table order: "a, b, c".
  std::string names() const {
    std::string s;
    for (const auto& r : rules_) s += (s.empty() ? "" : ", ") + r.name;
    return s;
  }

  // Reads the map `f.value` into `out` ("expected a map" otherwise).
  void read(const Field& f, T& out) const {
    f.expect_map();
    std::vector<Section::Seen> seen;
    for (auto it = f.value.begin(); it != f.value.end(); ++it) {
      // Copies: it-> yields a temporary pair, references into it dangle.
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsScalar()) f.reader->fail(k.Mark(), f.key, "keys must be plain names");
      const std::string name = k.Scalar();
      const std::string full = f.key.empty() ? name : f.key + "." + name;
      const Rule* rule = nullptr;
      for (const auto& r : rules_)
        if (r.name == name) rule = &r;
      if (!rule) f.reader->fail(k.Mark(), full, "unknown key (expected one of: " + names() + ")");
      for (const auto& s : seen)
        if (s.name == name) f.reader->fail(k.Mark(), full, "duplicate key");
      seen.push_back({name, k, v});
      rule->parse(Field{f.reader, full, k, v}, out);
    }
    const Section section(f, std::move(seen));
    if (line_) out.*line_ = section.line();
    for (const auto& c : checks_) c(section, out);
  }

  // Reads a list of maps; each(T&&, item field) takes every item in order.
  template <typename Each>
  void read_list(const Field& f, Each&& each) const {
    f.expect_list();
    for (std::size_t i = 0; i < f.value.size(); ++i) {
      const Field item = f.at(i);
      T t;
      read(item, t);
      each(std::move(t), item);
    }
  }

 private:
  struct Rule {
    std::string name;
    Parse parse;
  };

  static std::string checked_string(const Field& f, Validate validate) {
    std::string s = f.string();
    if (validate) {
      const std::string problem = validate(s);
      if (!problem.empty()) f.fail(problem);
    }
    return s;
  }

  std::vector<Rule> rules_;
  std::vector<Check> checks_;
  int T::*line_ = nullptr;
};

}  // namespace junction::config_binder
