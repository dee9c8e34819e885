#include "module_options.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "lmdb_store.h"
#include "mem_store.h"

namespace junction::app {

std::unique_ptr<store::Store> open_store(const StoreConfig& s) {
  if (s.durability == Durability::Memory) return std::make_unique<store::MemStore>();
  std::error_code ec;
  std::filesystem::create_directories(s.path, ec);
  if (ec) throw std::runtime_error("cannot create the data directory " + s.path + ": " + ec.message());
  return std::make_unique<store::LmdbStore>(lmdb_options(s));
}

store::LmdbOptions lmdb_options(const StoreConfig& s) {
  store::LmdbOptions o;
  o.path = s.path;
  o.durability = s.durability == Durability::Sync ? store::Durability::Sync : store::Durability::Batch;
  o.sync_interval_ms = s.sync_interval_ms;
  o.initial_map_size = static_cast<std::size_t>(s.map_size_mb) << 20;
  o.max_map_size = static_cast<std::size_t>(s.max_map_size_mb) << 20;
  // Admission stops publishers at the reserve; the map stops only halfway
  // into it, so that acknowledgements still commit (they need pages too).
  o.min_free_disk_bytes = s.min_free_disk_bytes / 2;
  return o;
}

core::BrokerConfig broker_config(const Config& cfg) {
  const LimitsConfig& l = cfg.limits;
  core::BrokerConfig b;
  b.max_queued_messages = l.max_queued_messages;
  b.max_queued_bytes = l.max_queued_bytes;
  b.max_inflight = l.max_inflight;
  b.max_session_expiry_s = l.max_session_expiry;
  b.slow_consumer_ms = l.slow_consumer_ms;
  b.max_disk_bytes = cfg.store.max_disk_bytes;
  b.delays_enabled = cfg.delays.enabled;
  b.max_delay_s = cfg.delays.max_delay_s;
  b.shared_strategy = cfg.shared_subscriptions.strategy;
  b.trace_drops = cfg.unroutable.trace_drops;
  if (!cfg.unroutable.to.empty() || !cfg.unroutable.rules.empty()) {
    b.unroutable_to = [u = cfg.unroutable](std::string_view topic) {
      for (const UnroutableRule& r : u.rules) {
        if (glob_match(r.pattern, topic)) return r.to;
      }
      return u.to;
    };
  }
  b.dedup_enabled = cfg.dedup.enabled;
  b.dedup_window_s = cfg.dedup.window_s;
  b.dedup_max_ids = cfg.dedup.max_ids;
  b.min_free_disk_bytes = cfg.store.durability == Durability::Memory ? 0 : cfg.store.min_free_disk_bytes;
  b.queue_policies = [queues = cfg.queues](std::string_view name) {
    core::QueuePolicy p;
    if (const QueueConfig* q = match_queue_config(queues, name)) {
      p.max_length = q->max_length;
      p.max_bytes = q->max_bytes;
      p.overflow = q->overflow;
      p.max_deliveries = q->max_deliveries;
      p.dead_letter = q->dead_letter;
      p.ttl_ms = static_cast<std::int64_t>(q->ttl_ms);
      p.single_active_consumer = q->single_active_consumer;
      p.redelivery_delay_ms = static_cast<std::int64_t>(q->redelivery_delay_ms);
      p.redelivery_multiplier = q->redelivery_multiplier;
      p.max_redelivery_delay_ms = static_cast<std::int64_t>(q->max_redelivery_delay_ms);
    }
    return p;
  };
  return b;
}

frontend::ClientOptions client_options(const Config& cfg, const ListenerConfig& l) {
  frontend::ClientOptions o;
  o.outbound_limit = static_cast<std::size_t>(cfg.limits.outbound_buffer);
  o.max_publish_rate = cfg.limits.max_publish_rate;
  o.allow_anonymous = l.allow_anonymous;
  return o;
}

mqtt::MqttOptions mqtt_options(const Config& cfg, const ListenerConfig& l) {
  const LimitsConfig& limits = cfg.limits;
  mqtt::MqttOptions o;
  o.client = client_options(cfg, l);
  o.max_packet_size = limits.max_packet_size;
  o.max_keepalive = limits.max_keepalive;
  o.receive_maximum = limits.receive_maximum;
  o.topic_alias_maximum = limits.topic_alias_maximum;
  o.disconnect_on_denied_publish_v3 = cfg.auth.disconnect_on_denied_publish_v3;
  return o;
}

std::unique_ptr<auth::AuthService> load_auth(const AuthConfig& a) {
  if (a.password_file.empty() && a.acl_file.empty()) return nullptr;
  return std::make_unique<auth::AuthService>(auth::AuthFiles{a.password_file, a.acl_file});
}

http::HttpOptions http_options(const Config& cfg) {
  http::HttpOptions o;
  o.limits.max_head_bytes = cfg.http.max_head_bytes;
  o.limits.max_body_bytes = cfg.http.max_body_bytes;
  o.limits.max_headers = cfg.http.max_headers;
  o.request_timeout_ms = cfg.http.request_timeout_ms;
  o.idle_timeout_ms = cfg.http.idle_timeout_ms;
  return o;
}

stomp::StompOptions stomp_options(const Config& cfg, const ListenerConfig& l) {
  stomp::StompOptions o;
  o.client = client_options(cfg, l);
  o.limits.max_frame_size = cfg.stomp.max_frame_size;
  o.limits.max_headers = cfg.stomp.max_headers;
  o.limits.max_header_line = cfg.stomp.max_header_line;
  o.heart_beat_send_ms = cfg.stomp.heart_beat_ms;
  o.heart_beat_receive_ms = cfg.stomp.heart_beat_ms;
  o.default_prefetch = cfg.stomp.prefetch;
  return o;
}

net::ListenerSpec listener_spec(const LimitsConfig& limits, const ListenerConfig& l) {
  net::ListenerSpec s;
  s.bind = l.bind;
  s.port = l.port;
  s.name = l.name;
  s.max_connections = l.max_connections;
  // on_drained must be able to fire before the front-end's own limit is
  // reached, so high water stays below outbound_buffer.
  std::uint64_t high = std::min<std::uint64_t>(s.high_water, limits.outbound_buffer / 2);
  s.high_water = static_cast<std::uint32_t>(high);
  s.low_water = static_cast<std::uint32_t>(high / 4);
  return s;
}

}  // namespace junction::app
