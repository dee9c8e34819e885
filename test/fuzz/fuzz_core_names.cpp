// libFuzzer: what the core parses out of names clients choose: topic names
// and filters (validity and matching), the `$delayed/<seconds>/<topic>`
// prefix and the decimal numbers of x-delay and STOMP `expires`.
// The first byte splits the input into a filter and a topic.
// Invariants: nothing crashes; a delayed topic that parses is the prefix,
// its digits, '/' and a non-empty target, and prints back to the input; a
// valid topic name (not under $share/) matches itself and `#` (unless it is a
// $ topic) as filters;
// a `$share/<group>/<filter>` that splits is those three parts, the filter valid.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "decimal.h"
#include "delayed.h"
#include "topic.h"

using namespace junction::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t split = std::size_t(data[0]) % size;
  const std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string_view filter = all.substr(0, std::min(split, all.size()));
  const std::string_view topic = all.substr(filter.size());

  std::uint64_t delay_s = 0;
  std::string_view target;
  switch (parse_delayed_topic(topic, delay_s, target)) {
    case DelayedTopic::Yes: {
      if (target.empty()) std::abort();
      const std::string back = std::string(kDelayedTopicPrefix) + std::to_string(delay_s) + "/" + std::string(target);
      // Leading zeros are allowed ("$delayed/007/t"), so compare the value, not the bytes.
      const std::string_view digits = topic.substr(kDelayedTopicPrefix.size(),
                                                   topic.size() - kDelayedTopicPrefix.size() - target.size() - 1);
      std::uint64_t again = 0;
      if (!parse_decimal(digits, 10, again) || again != delay_s) std::abort();
      if (back.size() > topic.size()) std::abort();
      break;
    }
    case DelayedTopic::Malformed:
      if (topic.substr(0, kDelayedTopicPrefix.size()) != kDelayedTopicPrefix) std::abort();
      break;
    case DelayedTopic::No:
      if (topic.substr(0, kDelayedTopicPrefix.size()) == kDelayedTopicPrefix) std::abort();
      break;
  }

  std::uint64_t n = 0;
  if (parse_decimal(filter, 19, n)) {
    if (filter.empty() || filter.size() > 19) std::abort();
    if (std::to_string(n).size() > filter.size()) std::abort();
  }

  const bool name_ok = valid_topic_name(topic);
  // Run for the sanitizers: any answer is allowed for an arbitrary pair.
  (void)valid_topic_filter(filter);
  (void)topic_matches(filter, topic);
  // A name under "$share/" is no filter (that prefix makes a shared subscription).
  if (name_ok && !topic.starts_with("$share/")) {
    if (!valid_topic_filter(topic) || !topic_matches(topic, topic)) std::abort();
    if (!is_sys_topic(topic) && topic[0] != '$' && !topic_matches("#", topic)) std::abort();
  }
  std::string_view group, shared_filter;
  if (split_shared(filter, group, shared_filter) == SharedParse::Shared) {
    if (group.empty() || !valid_topic_filter(shared_filter)) std::abort();
    if ("$share/" + std::string(group) + "/" + std::string(shared_filter) != filter) std::abort();
  }
  return 0;
}
