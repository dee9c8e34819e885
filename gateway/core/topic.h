// junction::core topic names and filters, protocol-neutral.
// Levels are separated by '/'. Protocol front-ends translate their own
// destination syntax into these (e.g. STOMP "/topic/a/b" -> "a/b").
#pragma once

#include <cstddef>
#include <string_view>

namespace junction::core {

inline constexpr std::size_t kMaxTopicLength = 65535;

// A topic name to publish to: non-empty, no '+' or '#', no U+0000,
// at most kMaxTopicLength bytes. (UTF-8 well-formedness is the codec's job.)
bool valid_topic_name(std::string_view topic);

// A subscription filter: non-empty; '+' only as a whole level; '#' only as
// the whole last level; no U+0000. "$share/..." is NOT accepted here: split it
// with split_shared() first.
bool valid_topic_filter(std::string_view filter);

enum class SharedParse { NotShared, Shared, Invalid };

// "$share/<group>/<filter>": group non-empty without '+', '#' or '/', filter
// valid [MQTT-4.8.2-1, -4.8.2-2]. On Shared, `group` and `filter` view into `full`.
SharedParse split_shared(std::string_view full, std::string_view& group, std::string_view& filter);

// Topic-vs-filter match with the same rules as SubscriptionTree (used for
// ACL checks, retained delivery and tests).
bool topic_matches(std::string_view filter, std::string_view topic);

// "$SYS" and "$SYS/...": the broker's own statistics (SysTopics). Only the
// broker publishes there; Broker::publish refuses them from anyone else.
inline bool is_sys_topic(std::string_view topic) {
  return topic.starts_with("$SYS") && (topic.size() == 4 || topic[4] == '/');
}

// Calls visit(level) for each level of `topic`, left to right.
template <class F>
void for_each_level(std::string_view topic, F&& visit) {
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = topic.find('/', start);
    if (slash == std::string_view::npos) {
      visit(topic.substr(start));
      return;
    }
    visit(topic.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace junction::core
