// The topic scope: the filters the bridge exposes. A topic is in scope when
// a scope filter matches it; a filter when every topic it can match is
// matched by one scope filter (level by level: `#` covers the rest, `+`
// covers any one level or `+`, a literal only itself).
#include <vector>

#include "topic.h"
#include "xmpp_bridge.h"

namespace junction::xmpp {

namespace {

std::vector<std::string_view> levels(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

bool covers(std::string_view scope, std::string_view filter) {
  // [MQTT-4.7.2-1]: a leading wildcard never reaches `$` topics.
  if (!filter.empty() && filter[0] == '$' && !scope.empty() && (scope[0] == '#' || scope[0] == '+')) return false;
  const auto s = levels(scope), f = levels(filter);
  for (std::size_t i = 0;; ++i) {
    if (i < s.size() && s[i] == "#") return true;
    if (i >= s.size() || i >= f.size()) return i >= s.size() && i >= f.size();
    if (f[i] == "#") return false;
    if (s[i] == "+") continue;
    if (s[i] != f[i]) return false;
  }
}

}  // namespace

bool XmppBridge::topic_in_scope(std::string_view topic) const {
  for (const std::string& s : options_.scope)
    if (core::topic_matches(s, topic)) return true;
  return false;
}

bool XmppBridge::filter_in_scope(std::string_view filter) const {
  for (const std::string& s : options_.scope)
    if (covers(s, filter)) return true;
  return false;
}

}  // namespace junction::xmpp
