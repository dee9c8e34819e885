// Access control inside the core: the delivery check with its per-session
// cache, and what a reload changes for connected sessions. The rules
// themselves live behind AccessControl (access_control.h).
#include <string>
#include <vector>

#include "broker.h"
#include "log.h"
#include "topic.h"

namespace junction::core {

namespace {

bool is_queue_filter(std::string_view filter) {
  return filter.substr(0, kQueueTopicPrefix.size()) == kQueueTopicPrefix;
}

}  // namespace

bool Broker::may_deliver_slow(Session* s, std::string_view topic) {
  const Principal who = s->identity().principal(s->client_id);
  const std::uint64_t gen = acl_->generation();
  SessionAccess& cache = s->access_or_create();
  if (cache.acl_generation != static_cast<std::uint32_t>(gen)) {
    // Every topic a wholly readable filter matches is readable, so a session
    // whose filters are all wholly readable needs no per-message check.
    bool whole = true;
    for (const auto& [filter, o] : s->subscriptions_) {
      if (is_queue_filter(filter)) continue;  // queue deliveries do not come through here
      std::string_view group, plain;
      if (split_shared(filter, group, plain) != SharedParse::Shared) plain = filter;
      if (acl_->subscribe_access(who, plain) != FilterAccess::Whole) {
        whole = false;
        break;
      }
    }
    cache.acl_whole = whole;
    cache.acl_generation = static_cast<std::uint32_t>(gen);
  }
  return cache.acl_whole || acl_->allowed(who, topic, Access::Read);
}

void Broker::access_changed() {
  acl_ = access_ && access_->has_acl() ? access_ : nullptr;
  std::vector<SessionSink*> sinks;
  for (Session* s : sessions_) {
    s->invalidate_acl_cache();
    if (!s->online()) continue;
    if (acl_) {
      // A queue consumer whose read access was taken away stops: what it
      // had unacknowledged goes back to the queue.
      const Principal who = s->identity().principal(s->client_id);
      std::vector<std::string> lost;
      for (const auto& [filter, o] : s->subscriptions_) {
        if (is_queue_filter(filter) && !acl_->allowed(who, filter, Access::Read)) lost.push_back(filter);
      }
      for (const std::string& f : lost) {
        log::notice("access: client '%s' (user '%s') may no longer read %s: subscription removed",
                    s->client_id.c_str(), s->identity().user.c_str(), f.c_str());
        unsubscribe(s, f);
      }
    }
    sinks.push_back(s->sink);
  }
  // Closing a connection only schedules its close: no sink in the list goes
  // away while we walk it.
  for (SessionSink* sink : sinks) sink->access_changed();
}

}  // namespace junction::core
