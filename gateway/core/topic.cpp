// Topic name/filter validation and the reference matcher.
//
// topic_matches() is deliberately a plain two-cursor walk, independent of the
// trie code, so tests can use it as the brute-force oracle for
// SubscriptionTree::match and RetainedStore::match.
#include "topic.h"

namespace junction::core {

namespace {

constexpr std::string_view kSharePrefix = "$share/";

// Takes the level starting at `pos` and advances `pos` past the next '/', or
// to npos when that was the last level. An empty string has one empty level,
// matching for_each_level().
std::string_view take_level(std::string_view s, std::size_t& pos) {
  std::size_t slash = s.find('/', pos);
  std::string_view level;
  if (slash == std::string_view::npos) {
    level = s.substr(pos);
    pos = std::string_view::npos;
  } else {
    level = s.substr(pos, slash - pos);
    pos = slash + 1;
  }
  return level;
}

}  // namespace

bool valid_topic_name(std::string_view topic) {
  if (topic.empty() || topic.size() > kMaxTopicLength) return false;
  // A plain loop: find_first_of calls memchr on the set once per byte (5% of
  // a QoS 1 publish's CPU in a profile).
  for (const char c : topic) {
    if (c == '+' || c == '#' || c == '\0') return false;
  }
  return true;
}

bool valid_topic_filter(std::string_view filter) {
  if (filter.empty() || filter.size() > kMaxTopicLength) return false;
  if (filter.find('\0') != std::string_view::npos) return false;
  // Shared subscriptions must come through split_shared(); accepting the raw
  // form here would subscribe to the literal topic "$share/...".
  if (filter.starts_with(kSharePrefix)) return false;
  std::size_t pos = 0;
  while (pos != std::string_view::npos) {
    std::string_view level = take_level(filter, pos);
    if (level.find('+') != std::string_view::npos && level != "+") return false;  // [MQTT-4.7.1-2]
    if (level.find('#') != std::string_view::npos) {
      // '#' alone and last [MQTT-4.7.1-1].
      if (level != "#" || pos != std::string_view::npos) return false;
    }
  }
  return true;
}

SharedParse split_shared(std::string_view full, std::string_view& group, std::string_view& filter) {
  // Only the exact, case-sensitive "$share/" prefix makes a shared
  // subscription; "$share" alone or "$shared/x" are ordinary filters.
  if (!full.starts_with(kSharePrefix)) {
    // Convenience for callers: the plain filter is the whole string.
    group = {};
    filter = full;
    return SharedParse::NotShared;
  }
  std::string_view rest = full.substr(kSharePrefix.size());
  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return SharedParse::Invalid;  // "$share/g": no filter
  std::string_view g = rest.substr(0, slash);
  std::string_view f = rest.substr(slash + 1);
  // ShareName: at least one character [MQTT-4.8.2-1], no '+' or '#'
  // [MQTT-4.8.2-2] ('/' cannot occur: the group ends at the first '/'),
  // followed by a valid filter [MQTT-4.8.2-2].
  if (g.empty() || g.find_first_of("+#") != std::string_view::npos) return SharedParse::Invalid;
  if (!valid_topic_filter(f)) return SharedParse::Invalid;
  group = g;
  filter = f;
  return SharedParse::Shared;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  // [MQTT-4.7.2-1]: a leading wildcard never matches a '$' topic.
  if (!topic.empty() && topic.front() == '$') {
    std::size_t p = 0;
    std::string_view first = take_level(filter, p);
    if (first == "+" || first == "#") return false;
  }
  std::size_t fp = 0;
  std::size_t tp = 0;
  for (;;) {
    if (fp == std::string_view::npos) return tp == std::string_view::npos;
    std::string_view f = take_level(filter, fp);
    // '#' covers the remaining levels, including none: "a/#" matches "a".
    if (f == "#") return true;
    if (tp == std::string_view::npos) return false;
    std::string_view t = take_level(topic, tp);
    if (f != "+" && f != t) return false;
  }
}

}  // namespace junction::core
