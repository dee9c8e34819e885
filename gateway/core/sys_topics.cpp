#include "sys_topics.h"

#include <string>

#include "broker.h"

namespace junction::core {

namespace {
// The 1 s tick and the clock are not in phase: an update a few ms early
// would otherwise wait a whole extra tick.
constexpr std::int64_t kTickSlackMs = 250;
}  // namespace

void SysReport::add(std::string_view name, std::uint64_t value) {
  values_.emplace_back(std::string(name), std::to_string(value));
}

void SysReport::add_text(std::string_view name, std::string_view value) {
  values_.emplace_back(std::string(name), std::string(value));
}

SysTopics::SysTopics(Broker& broker, std::uint32_t interval_s, std::string version)
    : broker_(broker),
      interval_ms_(std::int64_t(interval_s) * 1000),
      version_(std::move(version)),
      started_ms_(broker.clock().now_ms()) {}

void SysTopics::start() {
  if (!enabled() || started_) return;
  started_ = true;
  next_ms_ = broker_.clock().now_ms() + interval_ms_;
  publish("version", version_);
}

void SysTopics::tick() {
  if (!started_) return;
  const std::int64_t now = broker_.clock().now_ms();
  if (now + kTickSlackMs < next_ms_) return;
  next_ms_ += interval_ms_;
  if (next_ms_ <= now) next_ms_ = now + interval_ms_;  // the loop stalled: no burst of updates
  update();
}

void SysTopics::collect(SysReport& r) const {
  const BrokerStats& st = broker_.stats();
  const std::size_t sessions = broker_.session_count();
  const std::size_t connected = broker_.connected_count();
  r.add("clients/connected", connected);
  // Persistent sessions without a connection (others end when they disconnect).
  r.add("clients/disconnected", sessions - connected);
  r.add("clients/total", sessions);
  r.add("clients/maximum", broker_.connected_peak());
  r.add("clients/expired", st.sessions_expired);
  // Publishes (PUBLISH, SEND, bridge messages, wills), not every packet as
  // Mosquitto's messages/received: both names carry the same figure.
  r.add("messages/received", st.messages_in);
  r.add("messages/sent", st.messages_out);
  r.add("publish/messages/received", st.messages_in);
  r.add("publish/messages/sent", st.messages_out);
  r.add("publish/messages/dropped", st.dropped_qos0 + st.refused_quota + st.dropped_oldest);
  // Why (Junction only): a subscriber's session at its caps, a slow consumer
  // (its connection stalled), the oldest of a drop-oldest outbox.
  r.add("publish/messages/dropped/queue_full", st.queue_full_messages + st.queue_full_bytes);
  r.add("publish/messages/dropped/slow_consumer", st.dropped_slow_consumer);
  r.add("publish/messages/dropped/oldest", st.dropped_oldest);
  r.add("clients/slow_consumers", st.slow_consumers);
  r.add("publish/sys/refused", st.sys_publish_refused);
  r.add("messages/expired", st.expired);
  r.add("publish/messages/unroutable", st.unroutable);
  r.add("publish/messages/unroutable/diverted", st.unroutable_diverted);
  r.add("delayed/pending", broker_.delayed().pending());
  r.add("delayed/delivered", st.delayed_delivered);
  r.add("dedup/ids", broker_.dedup().size());
  r.add("dedup/dropped", st.dedup_dropped);
  // Without the $SYS values themselves (every name in last_ is one), so
  // the count does not move because the tree was published.
  const std::size_t retained = broker_.retained().size();
  r.add("retained messages/count", retained >= last_.size() ? retained - last_.size() : 0);
  r.add("subscriptions/count", broker_.subscription_count());
  r.add("queues/count", broker_.queues().queue_count());
  // The store's admission limits (store.max_disk_bytes, min_free_disk_bytes).
  r.add("publish/messages/refused/store_limit", st.refused_disk);
  if (broker_.store_space().known) {
    r.add("store/used_bytes", broker_.store_space().used_bytes);
    r.add("store/free_disk_bytes", broker_.store_space().free_disk_bytes);
    r.add_text("store/limit", Broker::store_limit_name(broker_.store_limit()));
  }
  const auto& protocols = broker_.protocol_names();
  for (std::size_t i = 1; i < protocols.size(); ++i) {
    if (!protocols[i].empty()) {
      r.add("connections/" + protocols[i], broker_.connected_count(ProtocolId{static_cast<std::uint8_t>(i)}));
    }
  }
}

void SysTopics::update() {
  report_.clear();
  const std::int64_t up_ms = broker_.clock().now_ms() - started_ms_;
  report_.add_text("uptime", std::to_string(up_ms / 1000) + " seconds");
  collect(report_);
  for (const SysSource& source : sources_) source(report_);
  for (const auto& [name, value] : report_.values()) {
    auto it = last_.find(name);
    if (it != last_.end() && it->second == value) continue;
    publish(name, value);
  }
}

void SysTopics::publish(const std::string& name, const std::string& value) {
  MessageRef m = broker_.make_message();
  m->topic.reserve(kSysBrokerPrefix.size() + name.size());
  m->topic.assign(kSysBrokerPrefix).append(name);
  m->payload = value;
  m->retain = true;
  m->qos = 0;
  broker_.publish_volatile(m);
  last_[name] = value;
  ++published_;
}

}  // namespace junction::core
