// What a publish may ask for beyond routing (a delay, a dedup id), and what
// becomes of one that matched nothing or of a copy a limit dropped. The plain
// path reaches publish_special() only for a '$' topic or a message with user
// properties (router.cpp, Broker::publish).
#include "broker.h"
#include "decimal.h"
#include "log.h"
#include "topic.h"

namespace junction::core {

namespace {

PublishResult invalid_publish(const char* why) {
  PublishResult r;
  r.invalid = true;
  r.why = why;
  return r;
}

}  // namespace

PublishResult Broker::publish_special(const MessageRef& msg, Session* publisher) {
  // Not yet shared with anyone: a delayed message is rewritten for its
  // target (prefix and x-delay taken off, expiry counted from delivery).
  Message& m = *msg;
  std::uint64_t delay_ms = 0;
  bool have_delay = false;
  std::uint64_t delay_s = 0;
  std::string_view target;
  const DelayedTopic dt = parse_delayed_topic(m.topic, delay_s, target);
  if (dt == DelayedTopic::Malformed) {
    ++stats_.delayed_refused;
    return invalid_publish("a delayed topic is $delayed/<seconds>/<topic>");
  }
  if (dt == DelayedTopic::Yes) {
    delay_ms = delay_s * 1000;
    have_delay = true;
    m.topic.erase(0, static_cast<std::size_t>(target.data() - m.topic.data()));
  }
  if (!m.props().user_properties.empty()) {
    auto& props = m.mutable_props().user_properties;
    for (std::size_t i = 0; i < props.size();) {
      if (props[i].name != kDelayProperty) {
        ++i;
        continue;
      }
      std::uint64_t v = 0;
      if (!parse_decimal(props[i].value, 19, v)) {  // milliseconds
        ++stats_.delayed_refused;
        return invalid_publish("x-delay must be a whole number of milliseconds");
      }
      if (!have_delay) delay_ms = v;  // the topic's delay wins over the property
      have_delay = true;
      props.erase(props.begin() + static_cast<std::ptrdiff_t>(i));
    }
    m.drop_empty_props();
  }
  if (have_delay && !config_.delays_enabled) {
    ++stats_.delayed_refused;
    return invalid_publish("delayed delivery is disabled (delays.enabled)");
  }
  if (delay_ms > std::uint64_t(config_.max_delay_s) * 1000) {
    ++stats_.delayed_refused;
    return invalid_publish("delay above delays.max_delay_s");
  }
  if (is_sys_topic(m.topic)) {
    ++stats_.sys_publish_refused;
    PublishResult refused;
    refused.refused = true;
    return refused;
  }
  if (m.topic.compare(0, kDelayedTopicPrefix.size(), kDelayedTopicPrefix) == 0 || !valid_topic_name(m.topic)) {
    ++stats_.delayed_refused;
    return invalid_publish("a delayed message's topic must be a plain topic name or $queue/<name>");
  }
  if (m.topic.compare(0, kQueueTopicPrefix.size(), kQueueTopicPrefix) == 0 &&
      !QueueManager::valid_name(std::string_view(m.topic).substr(kQueueTopicPrefix.size()))) {
    ++stats_.delayed_refused;
    return invalid_publish("invalid queue name");
  }
  // Duplicate detection, per destination (the target of a delayed one).
  std::optional<DedupHash> dedup;
  if (config_.dedup_enabled) {
    for (const UserProperty& p : m.props().user_properties) {
      if (p.name != kDedupProperty) continue;
      if (p.value.empty()) {
        ++stats_.dedup_refused;
        return invalid_publish("x-dedup-id is empty");
      }
      dedup = dedup_hash(m.topic, p.value);
      break;
    }
  }
  const std::int64_t now = clock_.wall_ms();
  if (dedup && dedup_.seen(*dedup, now)) {
    // Acknowledged as taken (the first copy was), so a retrying producer stops.
    ++stats_.dedup_dropped;
    log::debug("publish to '%s' dropped: its x-dedup-id was taken within dedup.window_s", m.topic.c_str());
    // The first copy may still be on its way to disk: the answer waits for
    // this iteration's commit, which comes after that one.
    persistence_.note_deferred();
    PublishResult dup;
    dup.matched = 1;
    dup.duplicate = true;
    return dup;
  }
  ++stats_.messages_in;
  ++stats_.received_by_protocol[msg->origin_protocol.value & (kMaxProtocols - 1)];
  if (delay_ms == 0) {
    const PublishResult r = route(msg, publisher, true);
    if (dedup && !r.quota_exceeded && !r.refused && !r.invalid) dedup_.remember(*dedup, now);
    return r;
  }
  if (store_limit_ != StoreLimit::None) return refused_for_store_limit();  // a delayed message is written
  if (m.expiry_ms != 0) m.expiry_ms += static_cast<std::int64_t>(delay_ms);
  delayed_.schedule(msg, now + static_cast<std::int64_t>(delay_ms));
  ++stats_.delayed_scheduled;
  if (dedup) dedup_.remember(*dedup, now);
  PublishResult r;
  r.matched = 1;  // held for later: it went somewhere
  return r;
}

void Broker::deliver_delayed(const MessageRef& msg) {
  ++stats_.delayed_delivered;
  const PublishResult r = route(msg, nullptr, true);
  if (r.quota_exceeded) {
    ++stats_.delayed_dropped;
    if (stats_.delayed_dropped == 1 || stats_.delayed_dropped % 1000 == 0) {
      log::warning("delayed message for '%s' dropped when due: %s (%llu so far)", msg->topic.c_str(),
                   r.why ? r.why : "its target is full", static_cast<unsigned long long>(stats_.delayed_dropped));
    }
  }
}

void Broker::run_delayed() {
  if (shutting_down_) return;
  // A bounded run per call keeps the loop serving others; the wake-up at
  // the end of run() calls again at once while more are due.
  const std::int64_t now = clock_.wall_ms();
  delayed_.run(now, 4096);
  queues_.run_backoff(now);
}


void Broker::divert_unroutable(const MessageRef& msg, PublishResult& result) {
  ++stats_.unroutable;
  if (!config_.unroutable_to) return;
  const std::string to = config_.unroutable_to(msg->topic);
  if (to.empty() || to == msg->topic) return;
  if (to.compare(0, kQueueTopicPrefix.size(), kQueueTopicPrefix) == 0) {
    // Into the queue as it is: its topic says where it was going.
    if (queues_.publish(std::string_view(to).substr(kQueueTopicPrefix.size()), msg) == QueueResult::Ok) {
      ++stats_.unroutable_diverted;
      result.matched = 1;
    } else {
      result.quota_exceeded = true;
    }
    return;
  }
  // To a topic: a copy under that topic, the original one in a property.
  MessageRef copy = make_message();
  copy->topic = to;
  copy->payload = msg->payload;
  copy->qos = msg->qos;
  copy->expiry_ms = msg->expiry_ms;
  copy->origin_client = msg->origin_client;
  copy->origin_protocol = msg->origin_protocol;
  if (!msg->props().empty()) copy->mutable_props() = msg->props();
  copy->mutable_props().user_properties.push_back({"x-original-topic", msg->topic});
  diverting_ = true;
  PublishResult r = route(copy, nullptr, true);
  diverting_ = false;
  if (r.matched != 0) {
    ++stats_.unroutable_diverted;
    result.matched = r.matched;
  }
  result.quota_exceeded = result.quota_exceeded || r.quota_exceeded;
}

void Broker::trace_drop(const Message& msg, const char* reason) {
  if (!config_.trace_drops || is_sys_topic(msg.topic) || publish_depth_ > 4) return;
  MessageRef t = make_message();
  t->topic = std::string("$SYS/broker/dropped/") + reason;
  t->payload = msg.payload;
  t->mutable_props().user_properties.push_back({"x-original-topic", msg.topic});
  publish_volatile(t);
}


}  // namespace junction::core
