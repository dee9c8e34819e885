// parse_delayed_topic: EMQX's `$delayed/<seconds>/<topic>` prefix. Pure
// (no store, no loop): the fuzz target links this file alone.
#include "decimal.h"
#include "delayed.h"

namespace junction::core {

DelayedTopic parse_delayed_topic(std::string_view topic, std::uint64_t& delay_s, std::string_view& target) {
  if (topic.substr(0, kDelayedTopicPrefix.size()) != kDelayedTopicPrefix) return DelayedTopic::No;
  const std::string_view rest = topic.substr(kDelayedTopicPrefix.size());
  const std::size_t slash = rest.find('/');
  // Ten digits are past any max_delay_s (a 32-bit number of seconds).
  if (slash == std::string_view::npos || slash + 1 == rest.size() ||
      !parse_decimal(rest.substr(0, slash), 10, delay_s))
    return DelayedTopic::Malformed;
  target = rest.substr(slash + 1);
  return DelayedTopic::Yes;
}

}  // namespace junction::core
