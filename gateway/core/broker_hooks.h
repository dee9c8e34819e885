// junction::core::BrokerHooks — what the broker tells an observer that may
// change or stop messages (the plugin host, gateway/plugins). The core
// knows only this interface.
//
// Cost rule: the broker holds one pointer per kind of hook (message in,
// message out, events), null unless some plugin registered that kind, so
// a broker without plugins pays one pointer test per publish and per
// delivery, and none of the calls.
//
// Threading: loop thread only. Re-entrancy: a hook may publish (the
// plugin's jn_cb_publish); those messages skip on_message_in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "message.h"

namespace junction::core {

class Session;

enum class DisconnectReason : std::uint8_t {
  Normal,     // clean DISCONNECT
  Error,      // network loss, keep-alive, protocol error: the will goes
  TakenOver,  // another connection took the client id
  Admin,      // an operator (admin API, a plugin) closed it
  Shutdown,   // the broker stops
};

// A message a hook dropped: the publisher's answer.
struct MessageDrop {
  std::uint8_t reason_code = 0;  // MQTT 5 reason (>= 0x80); 0: 0x83 Implementation specific error
  std::string reason;
};

class BrokerHooks {
 public:
  virtual ~BrokerHooks() = default;

  // Before routing; `msg` is still the publisher's only reference and may
  // be changed. `publisher` is null for the broker's own (bridges, admin).
  // False: dropped, `drop` says why.
  virtual bool on_message_in(Message& msg, Session* publisher, MessageDrop& drop) = 0;
  // Before a subscriber's copy is queued or sent. False: this copy is skipped.
  virtual bool on_message_out(Session& subscriber, const Message& msg, std::uint8_t qos) = 0;

  virtual void on_connect(Session& s) = 0;
  virtual void on_disconnect(Session& s, DisconnectReason why) = 0;
  virtual void on_subscribe(Session& s, std::string_view filter, std::uint8_t qos) = 0;
  virtual void on_unsubscribe(Session& s, std::string_view filter) = 0;
  virtual void on_session_expired(std::string_view client_id) = 0;
};

// Which kinds of hook are wanted (Broker::set_hooks).
struct HookKinds {
  bool message_in = false;
  bool message_out = false;
  bool events = false;
};

}  // namespace junction::core
