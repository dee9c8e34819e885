// The mapping from configuration to module options (gateway/app
// module_options, transport_setup): a Config at its defaults (built in, and
// the embedded conf/junction.yaml) gives every module its own default
// options, field by field, so the configuration changes nothing a module
// would do unconfigured. The one intended difference: the store's
// durability (batch; LmdbOptions' own default is sync).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config.h"
#include "module_options.h"
#include "transport_setup.h"

using namespace junction;

namespace {

struct Case {
  const char* name;
  Config config;
};

std::vector<Case> defaults() { return {{"Config{}", Config{}}, {"default_config()", default_config()}}; }

}  // namespace

TEST_CASE("a default Config maps to the modules' default options", "[config][module_options]") {
  for (const Case& c : defaults()) {
    INFO(c.name);
    const Config& cfg = c.config;
    const ListenerConfig listener;  // allow_anonymous as given (the file's are loopback: true)

    const frontend::ClientOptions client = app::client_options(cfg, listener), client0;
    CHECK(client.outbound_limit == client0.outbound_limit);
    CHECK(client.connect_timeout_ms == client0.connect_timeout_ms);
    CHECK(client.max_publish_rate == client0.max_publish_rate);
    CHECK(client.allow_anonymous == client0.allow_anonymous);

    const mqtt::MqttOptions m = app::mqtt_options(cfg, listener), m0;
    CHECK(m.client.outbound_limit == m0.client.outbound_limit);
    CHECK(m.client.max_publish_rate == m0.client.max_publish_rate);
    CHECK(m.max_packet_size == m0.max_packet_size);
    CHECK(m.max_keepalive == m0.max_keepalive);
    CHECK(m.receive_maximum == m0.receive_maximum);
    CHECK(m.topic_alias_maximum == m0.topic_alias_maximum);
    CHECK(m.disconnect_on_denied_publish_v3 == m0.disconnect_on_denied_publish_v3);

    const stomp::StompOptions s = app::stomp_options(cfg, listener), s0;
    CHECK(s.client.outbound_limit == s0.client.outbound_limit);
    CHECK(s.limits.max_frame_size == s0.limits.max_frame_size);
    CHECK(s.limits.max_headers == s0.limits.max_headers);
    CHECK(s.limits.max_header_line == s0.limits.max_header_line);
    CHECK(s.limits.max_command_length == s0.limits.max_command_length);
    CHECK(s.heart_beat_send_ms == s0.heart_beat_send_ms);
    CHECK(s.heart_beat_receive_ms == s0.heart_beat_receive_ms);
    CHECK(s.default_prefetch == s0.default_prefetch);
    CHECK(s.max_subscriptions == s0.max_subscriptions);
    CHECK(s.max_transaction_bytes == s0.max_transaction_bytes);

    const core::BrokerConfig b = app::broker_config(cfg), b0;
    CHECK(b.max_queued_messages == b0.max_queued_messages);
    CHECK(b.max_queued_bytes == b0.max_queued_bytes);
    CHECK(b.max_inflight == b0.max_inflight);
    CHECK(b.max_session_expiry_s == b0.max_session_expiry_s);
    CHECK(b.slow_consumer_ms == b0.slow_consumer_ms);
    CHECK(b.retain_available == b0.retain_available);
    REQUIRE(b.queue_policies);
    const core::QueuePolicy q = b.queue_policies("orders"), q0;
    CHECK(q.max_length == q0.max_length);
    CHECK(q.max_bytes == q0.max_bytes);
    CHECK(q.overflow == q0.overflow);
    CHECK(q.max_deliveries == q0.max_deliveries);
    CHECK(q.dead_letter == q0.dead_letter);
    CHECK(q.ttl_ms == q0.ttl_ms);

    const net::ListenerSpec l = app::listener_spec(cfg.limits, listener), l0;
    CHECK(l.bind == l0.bind);
    CHECK(l.port == l0.port);
    CHECK(l.name == l0.name);
    CHECK(l.max_connections == l0.max_connections);
    CHECK(l.high_water == l0.high_water);
    CHECK(l.low_water == l0.low_water);

    const store::LmdbOptions o = app::lmdb_options(cfg.store), o0;
    CHECK(o.path == "./junction-data");
    CHECK(o.durability == store::Durability::Batch);  // the configuration's choice
    CHECK(o.sync_interval_ms == o0.sync_interval_ms);
    CHECK(o.initial_map_size == o0.initial_map_size);
    CHECK(o.max_map_size == o0.max_map_size);
    CHECK(o.max_batch_ops == o0.max_batch_ops);
  }
}

TEST_CASE("a default WebSocket listener maps to the net layer's defaults", "[config][module_options]") {
  ListenerConfig ws;
  ws.transport = Transport::Ws;
  ws.path = "/mqtt";
  const std::vector<ListenerConfig> listeners{ws};
  const auto spec = app::make_transport(listeners, {0}, {nullptr});
  REQUIRE(spec);
  const net::TransportSpec t0;
  const net::WsOptions w0;
  CHECK(spec->kind == net::TransportKind::Ws);
  CHECK(spec->handshake_timeout_ms == t0.handshake_timeout_ms);
  CHECK(spec->ws.http.max_request_size == w0.http.max_request_size);
  CHECK(spec->ws.http.max_headers == w0.http.max_headers);
  CHECK(spec->ws.max_frame_size == w0.max_frame_size);
  CHECK(spec->ws.allowed_origins == w0.allowed_origins);
  REQUIRE(spec->ws.endpoints.size() == 1);
  CHECK(spec->ws.endpoints[0].path == "/mqtt");
  CHECK(spec->ws.endpoints[0].subprotocol_required);  // MQTT over WebSocket names its subprotocol

  ListenerConfig tcp;
  CHECK(app::make_transport({tcp}, {0}, {nullptr}) == nullptr);
}
