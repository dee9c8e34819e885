#include "amqp_name_map.h"

namespace junction::amqp {

namespace {

void escape_level(std::string_view level, std::string& out) {
  for (char c : level) {
    switch (c) {
      case '.': out += "%2E"; break;
      case '%': out += "%25"; break;
      case '*': out += "%2A"; break;
      case '#': out += "%23"; break;
      default: out.push_back(c);
    }
  }
}

// The character an escape at s[i] stands for, or -1. Caller ensures i + 2 < s.size().
int escaped_char(std::string_view s, std::size_t i) {
  const char a = s[i + 1];
  const char b = static_cast<char>(s[i + 2] | 0x20);  // lower-case the hex letter
  if (a == '2' && b == 'e') return '.';
  if (a == '2' && b == '5') return '%';
  if (a == '2' && b == 'a') return '*';
  if (a == '2' && b == '3') return '#';
  return -1;
}

void unescape_word(std::string_view word, std::string& out) {
  for (std::size_t i = 0; i < word.size(); ++i) {
    const int c = word[i] == '%' && i + 2 < word.size() ? escaped_char(word, i) : -1;
    if (c >= 0) {
      out.push_back(static_cast<char>(c));
      i += 2;
    } else {
      out.push_back(word[i]);
    }
  }
}

template <class F>
void for_each_part(std::string_view s, char sep, F f) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    f(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start), at == std::string_view::npos);
    if (at == std::string_view::npos) return;
    start = at + 1;
  }
}

std::optional<std::string> to_key(std::string_view topic, bool filter) {
  std::string out;
  out.reserve(topic.size());
  for_each_part(topic, '/', [&](std::string_view level, bool last) {
    if (filter && level == "+") {
      out.push_back('*');
    } else if (filter && level == "#") {
      out.push_back('#');
    } else {
      escape_level(level, out);
    }
    if (!last) out.push_back('.');
  });
  if (out.size() > kMaxRoutingKey) return std::nullopt;
  return out;
}

std::string to_topic(std::string_view key, bool filter) {
  std::string out;
  out.reserve(key.size());
  for_each_part(key, '.', [&](std::string_view word, bool last) {
    if (filter && word == "*") {
      out.push_back('+');
    } else if (filter && word == "#") {
      out.push_back('#');
    } else {
      unescape_word(word, out);
    }
    if (!last) out.push_back('/');
  });
  return out;
}

}  // namespace

std::optional<std::string> topic_to_routing_key(std::string_view topic) { return to_key(topic, false); }
std::optional<std::string> filter_to_binding_key(std::string_view filter) { return to_key(filter, true); }
std::string routing_key_to_topic(std::string_view key) { return to_topic(key, false); }
std::string binding_key_to_filter(std::string_view key) { return to_topic(key, true); }

std::optional<std::string> expand_routing_key(std::string_view tmpl, std::string_view mapped_topic) {
  std::string out;
  constexpr std::string_view kPlaceholder = "{topic}";
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = tmpl.find(kPlaceholder, start);
    out.append(tmpl.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    out.append(mapped_topic);
    start = at + kPlaceholder.size();
  }
  if (out.size() > kMaxRoutingKey) return std::nullopt;
  return out;
}

}  // namespace junction::amqp
