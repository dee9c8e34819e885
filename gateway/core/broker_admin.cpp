// The Broker's operator side (the admin API): kick a client, clear a
// retained message. Off every hot path.
#include "broker.h"
#include "log.h"
#include "records.h"
#include "store.h"

namespace junction::core {

Broker::KickOutcome Broker::kick(std::string_view client_id, bool remove_session) {
  KickOutcome out;
  Session* s = find_session(client_id);
  if (s == nullptr) return out;
  out.found = true;
  const std::string id(client_id);
  if (s->online()) {
    // As a takeover: the broker detaches first, then tells the connection,
    // which must not touch the session again. No will: an operator's
    // action is not the client failing.
    SessionSink* sink = s->sink;
    detach_reason_ = DisconnectReason::Admin;
    detach(s, DetachKind::Normal, remove_session ? 0 : s->expiry_interval_s);
    sink->disconnected_by_admin();
    out.disconnected = true;
    s = find_session(id);  // gone when it was not persistent
    if (s == nullptr) out.session_removed = true;
  }
  if (s != nullptr && remove_session) {
    end_session(s);
    out.session_removed = true;
  }
  return out;
}

bool Broker::clear_retained(std::string_view topic) {
  if (loader_) retained_touched(topic);  // a stored one not loaded yet stays cleared
  const RetainedStore::Replaced old = retained_.erase(topic);
  if (!old) return false;
  drop_replaced_retained(old);
  return true;
}

}  // namespace junction::core
