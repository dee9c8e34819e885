// Shared by the AMQP codec unit tests and the fuzz target: sample values for
// every method, and stream feeding that records what the parser reported.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "amqp_codec.h"

namespace amqp_testkit {

using namespace junction::amqp;

inline FieldTable sample_table() {
  FieldTable t;
  auto add = [&](const char* n, FieldValue v) { t.push_back(Field{n, std::move(v)}); };
  FieldValue v;
  v = {}; v.type = 't'; v.i = 1; add("bool", v);
  v = {}; v.type = 'b'; v.i = -5; add("i8", v);
  v = {}; v.type = 'B'; v.u = 250; add("u8", v);
  v = {}; v.type = 's'; v.i = -300; add("i16", v);
  v = {}; v.type = 'u'; v.u = 65000; add("u16", v);
  v = {}; v.type = 'I'; v.i = -70000; add("i32", v);
  v = {}; v.type = 'i'; v.u = 4000000000u; add("u32", v);
  v = {}; v.type = 'l'; v.i = -(1ll << 40); add("i64", v);
  v = {}; v.type = 'f'; v.d = 1.5; add("float", v);
  v = {}; v.type = 'd'; v.d = -2.25; add("double", v);
  v = {}; v.type = 'D'; v.dec = {2, 12345}; add("decimal", v);
  add("str", FieldValue::string("hello"));
  v = {}; v.type = 'x'; v.s = std::string("\0\1\2", 3); add("bytes", v);
  add("ts", FieldValue::timestamp(1700000000));
  v = {}; v.type = 'V'; add("void", v);
  FieldValue arr; arr.type = 'A'; arr.array = {FieldValue::string("a"), FieldValue::int64(7)};
  add("array", arr);
  FieldValue nested; nested.type = 'F'; nested.table = {Field{"inner", FieldValue::boolean(false)}};
  add("table", nested);
  return t;
}

inline std::vector<Method> sample_methods() {
  std::vector<Method> m;
  ConnectionStart start; start.server_properties = sample_table(); start.mechanisms = "PLAIN AMQPLAIN"; start.locales = "en_US";
  m.push_back(start);
  ConnectionStartOk start_ok; start_ok.client_properties = {Field{"product", FieldValue::string("junction")}};
  start_ok.mechanism = "PLAIN"; start_ok.response = std::string("\0guest\0guest", 12); start_ok.locale = "en_US";
  m.push_back(start_ok);
  m.push_back(ConnectionTune{2047, 131072, 60});
  m.push_back(ConnectionTuneOk{2047, 131072, 30});
  m.push_back(ConnectionOpen{"/vhost", "", true});
  m.push_back(ConnectionOpenOk{"x"});
  m.push_back(ConnectionClose{320, "CONNECTION_FORCED - broker forced connection closure", 0, 0});
  m.push_back(ConnectionCloseOk{});
  m.push_back(ConnectionBlocked{"low on memory"});
  m.push_back(ConnectionUnblocked{});
  m.push_back(ChannelOpen{});
  m.push_back(ChannelOpenOk{"id"});
  m.push_back(ChannelClose{404, "NOT_FOUND - no exchange 'x'", 60, 40});
  m.push_back(ChannelCloseOk{});
  ExchangeDeclare xd; xd.exchange = "amq.topic2"; xd.type = "topic"; xd.durable = true; xd.internal = true;
  xd.arguments = {Field{"alternate-exchange", FieldValue::string("ae")}};
  m.push_back(xd);
  m.push_back(ExchangeDeclareOk{});
  QueueDeclare qd; qd.queue = "q1"; qd.durable = true; qd.auto_delete = true; qd.arguments = {Field{"x-max-length", FieldValue::int64(10)}};
  m.push_back(qd);
  m.push_back(QueueDeclareOk{"q1", 3, 1});
  QueueBind qb; qb.queue = "q1"; qb.exchange = "ex"; qb.routing_key = "a.*.#"; qb.no_wait = true;
  m.push_back(qb);
  m.push_back(QueueBindOk{});
  m.push_back(BasicQos{0, 100, true});
  m.push_back(BasicQosOk{});
  BasicConsume bc; bc.queue = "q1"; bc.consumer_tag = "ctag"; bc.no_ack = true; bc.exclusive = true;
  m.push_back(bc);
  m.push_back(BasicConsumeOk{"ctag"});
  m.push_back(BasicCancel{"ctag", true});
  m.push_back(BasicCancelOk{"ctag"});
  BasicPublish bp; bp.exchange = "ex"; bp.routing_key = "a.b"; bp.mandatory = true;
  m.push_back(bp);
  m.push_back(BasicReturn{312, "NO_ROUTE", "ex", "a.b"});
  m.push_back(BasicDeliver{"ctag", 0x0102030405060708ull, true, "ex", "a.b"});
  m.push_back(BasicAck{77, true});
  m.push_back(BasicNack{78, false, true});
  m.push_back(ConfirmSelect{true});
  m.push_back(ConfirmSelectOk{});
  return m;
}

inline BasicProperties full_properties() {
  BasicProperties p;
  p.content_type = "application/json";
  p.content_encoding = "gzip";
  p.headers = sample_table();
  p.delivery_mode = 2;
  p.priority = 5;
  p.correlation_id = "corr";
  p.reply_to = "replies";
  p.expiration = "60000";
  p.message_id = "m-1";
  p.timestamp = 1700000000;
  p.type = "t";
  p.user_id = "guest";
  p.app_id = "app";
  p.cluster_id = "";
  return p;
}

// One parse result, comparable across different feedings of the same stream.
struct Event {
  ParseResult result;
  Error error = Error::None;
  std::uint8_t type = 0;
  std::uint16_t channel = 0;
  std::string payload;
  bool operator==(const Event&) const = default;
};

// Feeds `wire` split at the given offsets (each chunk appended to a growing
// buffer, as a connection does) and records every frame and the final state.
inline std::vector<Event> feed_chunks(std::string_view wire, const std::vector<std::size_t>& cuts, std::uint32_t max = 131072) {
  FrameParser p(max);
  std::vector<Event> ev;
  std::string buf;
  std::size_t prev = 0;
  auto drain = [&]() -> bool {
    for (;;) {
      Frame f;
      Error e;
      const ParseResult r = p.next(bytes_of(buf), f, e);
      if (r == ParseResult::NeedMore) return true;
      if (r == ParseResult::Error) {
        ev.push_back(Event{r, e, 0, 0, {}});
        return false;
      }
      ev.push_back(Event{r, e, static_cast<std::uint8_t>(f.type), f.channel,
                         std::string(reinterpret_cast<const char*>(f.payload.data()), f.payload.size())});
      buf.erase(0, f.total_size);
    }
  };
  std::vector<std::size_t> all = cuts;
  all.push_back(wire.size());
  for (std::size_t c : all) {
    if (c < prev) continue;
    buf.append(wire.substr(prev, c - prev));
    prev = c;
    if (!drain()) return ev;
  }
  ev.push_back(Event{ParseResult::NeedMore, Error::None, 0, 0, buf});
  return ev;
}

inline std::vector<Event> feed_whole(std::string_view wire, std::uint32_t max = 131072) { return feed_chunks(wire, {}, max); }
inline std::vector<Event> feed_split(std::string_view wire, std::size_t at, std::uint32_t max = 131072) { return feed_chunks(wire, {at}, max); }
inline std::vector<Event> feed_bytewise(std::string_view wire, std::uint32_t max = 131072) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < wire.size(); ++i) cuts.push_back(i);
  return feed_chunks(wire, cuts, max);
}

inline std::string hex(std::string_view s) {
  std::string out;
  char b[4];
  for (unsigned char c : s) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

}  // namespace amqp_testkit
