// SEND -> core message -> Broker::publish (topics, and queues through the
// "$queue/<name>" topics the router hands to the QueueManager, so a full
// queue comes back as PublishResult::quota_exceeded).
#include "log.h"
#include "stomp_connection.h"

namespace junction::stomp {

void StompConnection::handle_send(const StompFrame& f, ByteSpan raw, bool from_tx) {
  const std::string_view* dest = f.header("destination");
  if (!dest) {
    fail("missing destination header", "SEND needs a destination");
    return;
  }
  Destination d;
  if (const char* why = parse_destination(*dest, DestUse::Send, d)) {
    fail(why, *dest);
    return;
  }
  if (!from_tx) {
    if (const std::string_view* tx = f.header("transaction")) {
      buffer_in_transaction(*tx, raw);
      return;
    }
  }
  std::string topic = publish_topic(d, owner());
  if (topic.empty()) {
    fail("temporary queue name too long", *dest);
    return;
  }
  if (d.kind == DestKind::Queue && is_foreign_temp_queue(d.name, owner())) {
    // A reply to a temporary queue whose connection is gone: like RabbitMQ,
    // drop it instead of filling a queue nobody can read.
    const core::Queue* q = broker().queues().find(d.name);
    if (q == nullptr || q->consumer_count() == 0) {
      log::debug("stomp %s: reply to %.*s dropped: no consumer", client_id_.c_str(), int(dest->size()), dest->data());
      return;
    }
  }

  // Temporary queues are private to their connection (and replies to
  // them are how request/response works): the ACL governs /topic and /queue.
  std::string_view checked = topic;  // a delayed publish is checked against where it goes
  std::uint64_t delay_s = 0;
  std::string_view target;
  if (core::parse_delayed_topic(topic, delay_s, target) == core::DelayedTopic::Yes) checked = target;
  if (d.kind != DestKind::TempQueue && !may_access(checked, core::Access::Write)) {
    log::debug("stomp %s: client '%s' (user '%s') may not send to %.*s", sink_.info().peer_address.c_str(),
               client_id_.c_str(), session_->identity().user.c_str(), int(dest->size()), dest->data());
    fail("access refused", *dest);
    return;
  }

  if (d.kind != DestKind::Topic) {
    // Our own temp queues are drained when we go, even if we never read them.
    const std::string_view queue = std::string_view(topic).substr(kCoreQueuePrefix.size());
    if (!is_foreign_temp_queue(queue, owner())) note_temp_queue(queue);
  }

  core::MessageRef msg = broker().make_message();
  core::Message& m = *msg;
  m.topic = std::move(topic);
  m.payload.assign(reinterpret_cast<const char*>(f.body.data()), f.body.size());
  m.origin_client = client_id_;
  m.origin_protocol = kStompProtocol;
  if (const char* why = apply_send_headers(f.headers, owner(), m)) {
    fail(why);
    return;
  }
  if (d.kind != DestKind::Topic) m.retain = false;  // queues keep every message anyway
  if (m.retain && !broker().config().retain_available) {
    fail("retain not available");
    return;
  }
  ensure_reply_queue(m);

  const core::PublishResult r = broker().publish(msg, session_);
  if (r.refused) {
    fail("$SYS destinations are read-only", *dest);  // the broker's own statistics
    return;
  }
  if (r.invalid) {
    fail(r.why ? r.why : "message refused", *dest);  // e.g. a malformed or too long x-delay
    return;
  }
  // A full store is reported through the RECEIPT's commit ticket.
  if (r.quota_exceeded) {
    if (d.kind != DestKind::Topic) {
      // reject-publish overflow or a store limit: the producer must learn it was refused.
      fail(r.why ? r.why : "queue full", *dest);
    } else if (receipt_) {
      // Some subscriber's session queue is full, or the store is at a
      // limit. A receipt would promise delivery to all of them; without
      // one, like MQTT QoS 0, the others got it and the publisher goes on.
      fail(r.why ? r.why : "subscriber queue full", *dest);
    } else {
      log::debug("stomp %s: a subscriber of %.*s could not take a message", client_id_.c_str(),
                 int(dest->size()), dest->data());
    }
  }
}

}  // namespace junction::stomp
