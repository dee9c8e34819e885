// parse_config: the top-level sections and the simple ones (store, limits,
// queues, stomp, auth, sys, log) as binder tables; listeners are read in
// config_listeners.cpp, xmpp and bridges in config_bridges.cpp.
#include "config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config_binder.h"
#include "config_sections.h"

namespace junction {

namespace detail {
extern const std::string_view default_config_yaml;  // config_default.cpp (generated)
}

const char* durability_name(Durability d) {
  switch (d) {
    case Durability::Sync: return "sync";
    case Durability::Batch: return "batch";
    case Durability::Memory: return "memory";
  }
  return "?";
}

namespace {

// A destination for unroutable messages: "$queue/<name>" or a plain topic name.
std::string check_destination(const std::string& v) {
  if (v.empty()) return "";
  if (v.rfind("$queue/", 0) == 0) return v.size() > 7 ? "" : "needs a queue name after $queue/";
  if (v.rfind("$SYS", 0) == 0) return "must not be a $SYS topic";
  if (v.find_first_of("+#") != std::string::npos) return "must be a topic name, without wildcards";
  if (v.rfind("/queue/", 0) == 0) return "must be in core form: $queue/<name>, not /queue/<name>";
  return "";
}

}  // namespace

const char* shared_strategy_name(core::SharedStrategy s) {
  switch (s) {
    case core::SharedStrategy::RoundRobin: return "round_robin";
    case core::SharedStrategy::Random: return "random";
    case core::SharedStrategy::Sticky: return "sticky";
    case core::SharedStrategy::HashTopic: return "hash_topic";
    case core::SharedStrategy::HashClient: return "hash_client";
  }
  return "?";
}

namespace {

using namespace config_binder;

Binder<StoreConfig> store_binder() {
  using S = StoreConfig;
  return Binder<S>()
      .string("path", &S::path, not_empty)
      .choice("durability", &S::durability,
              named({Durability::Sync, Durability::Batch, Durability::Memory}, durability_name))
      .integer("sync_interval_ms", &S::sync_interval_ms, 1, 3600000)
      .integer("map_size_mb", &S::map_size_mb, 1, 1u << 20)
      .integer("max_map_size_mb", &S::max_map_size_mb, 0, 1u << 20)
      .integer("max_disk_bytes", &S::max_disk_bytes, 0, UINT64_MAX)
      .integer("min_free_disk_bytes", &S::min_free_disk_bytes, 0, UINT64_MAX)
      .check([](const Section& s, S& c) {
        if (c.max_map_size_mb != 0 && c.max_map_size_mb < c.map_size_mb)
          s.fail(s.value_mark("max_map_size_mb"), "max_map_size_mb",
                 "must be 0 (no limit) or at least map_size_mb (" + std::to_string(c.map_size_mb) + ")");
      });
}

Binder<LimitsConfig> limits_binder() {
  using L = LimitsConfig;
  return Binder<L>()
      .integer("max_queued_messages", &L::max_queued_messages, 1, 0xFFFFFFFFu)
      .integer("max_queued_bytes", &L::max_queued_bytes, 0, UINT64_MAX)
      // MQTT's largest packet: 268435455 bytes of body + 5 of header.
      .integer("max_packet_size", &L::max_packet_size, 64, 268435460)
      .integer("max_keepalive", &L::max_keepalive, 1, 65535)
      .integer("max_inflight", &L::max_inflight, 1, 65535)
      .integer("receive_maximum", &L::receive_maximum, 1, 65535)
      .integer("topic_alias_maximum", &L::topic_alias_maximum, 0, 65535)
      .integer("outbound_buffer", &L::outbound_buffer, 1024, 0xFFFFFFFFu)
      .integer("slow_consumer_ms", &L::slow_consumer_ms, 0, 86400000)
      .integer("max_session_expiry", &L::max_session_expiry, 0, 0xFFFFFFFFu)
      .integer("max_connections", &L::max_connections, 0, 0xFFFFFFFFu)
      .integer("max_connect_rate", &L::max_connect_rate, 0, 0xFFFFFFFFu)
      .integer("max_publish_rate", &L::max_publish_rate, 0, 0xFFFFFFFFu);
}

Binder<QueueConfig> queue_binder() {
  using Q = QueueConfig;
  return Binder<Q>()
      .string("pattern", &Q::pattern, not_empty)
      .integer("max_length", &Q::max_length, 0, 0xFFFFFFFFu)
      .integer("max_bytes", &Q::max_bytes, 0, UINT64_MAX)
      .choice("overflow", &Q::overflow,
              Choices<core::Overflow>{{"reject-publish", core::Overflow::RejectPublish},
                                      {"drop-head", core::Overflow::DropHead}})
      .integer("max_deliveries", &Q::max_deliveries, 0, 0xFFFFFFFFu)
      .string("dead_letter", &Q::dead_letter)
      .integer("ttl_ms", &Q::ttl_ms, 0, 0x7FFFFFFFFFFFull)
      .boolean("single_active_consumer", &Q::single_active_consumer)
      .integer("redelivery_delay_ms", &Q::redelivery_delay_ms, 0, 86'400'000ull * 30)
      .number("redelivery_multiplier", &Q::redelivery_multiplier, 1.0, 100.0)
      .integer("max_redelivery_delay_ms", &Q::max_redelivery_delay_ms, 0, 86'400'000ull * 30)
      .line(&Q::line)
      .check([](const Section& s, Q&) {
        if (!s.has("pattern")) s.fail(s.map_mark(), "pattern", "required key missing");
      });
}

Binder<StompConfig> stomp_binder() {
  using S = StompConfig;
  return Binder<S>()
      .integer("heart_beat_ms", &S::heart_beat_ms, 0, 3600000)
      .integer("prefetch", &S::prefetch, 0, 65535)
      .integer("max_frame_size", &S::max_frame_size, 256, 268435456)
      .integer("max_headers", &S::max_headers, 1, 65535)
      .integer("max_header_line", &S::max_header_line, 64, 1048576);
}

Binder<AuthConfig> auth_binder() {
  using A = AuthConfig;
  return Binder<A>()
      .string("password_file", &A::password_file)
      .string("acl_file", &A::acl_file)
      .choice("deny_publish_v3", &A::disconnect_on_denied_publish_v3,
              Choices<bool>{{"drop", false}, {"disconnect", true}});
}

Binder<PluginConfig> plugin_binder() {
  using P = PluginConfig;
  return Binder<P>()
      .string("path", &P::path, not_empty)
      .choice("builtin", &P::builtin, Choices<std::string>{{"password_file", "password_file"}, {"acl_file", "acl_file"}})
      .custom("options",
              [](const Field& f, P& p) {
                f.expect_map();
                for (const auto& kv : f.value) {
                  Field item{f.reader, f.key + "." + kv.first.as<std::string>(""), kv.first, kv.second};
                  if (!kv.second.IsScalar()) item.fail("expected a string, number or boolean, not " + Reader::describe(kv.second));
                  p.options.emplace_back(kv.first.as<std::string>(""), kv.second.as<std::string>(""));
                }
              })
      .line(&P::line)
      .check([](const Section& s, P&) {
        if (s.has("path") == s.has("builtin")) s.fail(s.map_mark(), "path", "give either path or builtin");
        if (s.has("builtin") && s.has("options")) s.fail(s.key_mark("options"), "options", "built-in members take no options");
      });
}

const Binder<Config>& sections_binder() {
  static const Binder<Config> binder =
      Binder<Config>()
          .custom("listeners", read_listeners)
          .map("store", &Config::store, store_binder())
          .map("limits", &Config::limits, limits_binder())
          .list("queues", &Config::queues, queue_binder())
          .map("stomp", &Config::stomp, stomp_binder())
          .map("auth", &Config::auth, auth_binder())
          .map("xmpp", &Config::xmpp, xmpp_binder())
          .custom("bridges", read_bridges)
          .map("sys", &Config::sys, Binder<SysConfig>().integer("interval_s", &SysConfig::interval_s, 0, 86400))
          .map("delays", &Config::delays,
               Binder<DelaysConfig>()
                   .boolean("enabled", &DelaysConfig::enabled)
                   .integer("max_delay_s", &DelaysConfig::max_delay_s, 1, 0xFFFFFFFFu))
          .map("shared_subscriptions", &Config::shared_subscriptions,
               Binder<SharedSubscriptionsConfig>().choice(
                   "strategy", &SharedSubscriptionsConfig::strategy,
                   named({core::SharedStrategy::RoundRobin, core::SharedStrategy::Random,
                          core::SharedStrategy::Sticky, core::SharedStrategy::HashTopic,
                          core::SharedStrategy::HashClient},
                         shared_strategy_name)))
          .map("unroutable", &Config::unroutable,
               Binder<UnroutableConfig>()
                   .string("to", &UnroutableConfig::to, check_destination)
                   .list("rules", &UnroutableConfig::rules,
                         Binder<UnroutableRule>()
                             .string("pattern", &UnroutableRule::pattern, not_empty)
                             .string("to", &UnroutableRule::to, check_destination)
                             .check([](const Section& s, UnroutableRule&) {
                               if (!s.has("pattern")) s.fail(s.map_mark(), "pattern", "required key missing");
                               if (!s.has("to")) s.fail(s.map_mark(), "to", "required key missing");
                             }))
                   .boolean("trace_drops", &UnroutableConfig::trace_drops))
          .map("dedup", &Config::dedup,
               Binder<DedupConfig>()
                   .boolean("enabled", &DedupConfig::enabled)
                   .integer("window_s", &DedupConfig::window_s, 1, 0xFFFFFFFFu)
                   .integer("max_ids", &DedupConfig::max_ids, 1, 100'000'000))
          .map("http", &Config::http,
               Binder<HttpConfig>()
                   .strings("admin_users", &HttpConfig::admin_users, not_empty)
                   .boolean("public_metrics", &HttpConfig::public_metrics)
                   .integer("max_head_bytes", &HttpConfig::max_head_bytes, 1024, 1048576)
                   .integer("max_body_bytes", &HttpConfig::max_body_bytes, 1024, 268435456)
                   .integer("max_headers", &HttpConfig::max_headers, 8, 1024)
                   .integer("request_timeout_ms", &HttpConfig::request_timeout_ms, 100, 600000)
                   .integer("idle_timeout_ms", &HttpConfig::idle_timeout_ms, 100, 86400000)
                   .integer("metrics_max_queues", &HttpConfig::metrics_max_queues, 0, 100000))
          .list("plugins", &Config::plugins, plugin_binder())
          .map("log", &Config::log,
               Binder<LogConfig>().choice("level", &LogConfig::level,
                                          named({log::Level::error, log::Level::warning, log::Level::notice,
                                                 log::Level::info, log::Level::debug},
                                                log::level_name)))
          .check([](const Section& s, Config& c) {
            if (!s.has("listeners")) s.fail(s.map_mark(), "listeners", "required key missing");
            // The admin API changes anything: without credentials to check,
            // only this machine may reach it.
            for (std::size_t i = 0; i < c.listeners.size(); ++i) {
              const ListenerConfig& l = c.listeners[i];
              if (l.protocol == Protocol::Http && c.auth.password_file.empty() && !is_loopback_address(l.bind))
                s.fail(s.key_mark("listeners"), "listeners[" + std::to_string(i) + "]",
                       "http listener " + l.bind + ":" + std::to_string(l.port) + " (line " + std::to_string(l.line) +
                           ") is not on a loopback address and auth.password_file is not set: the admin API "
                           "would be open to the network");
            }
            if (!c.http.admin_users.empty() && c.auth.password_file.empty())
              s.fail(s.key_mark("http"), "http.admin_users", "needs auth.password_file (the users' passwords)");
          });
  return binder;
}

}  // namespace

Config parse_config(std::string_view yaml, const std::string& source) {
  const Reader r(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    r.fail(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    r.fail(e.mark, "", std::string("YAML error: ") + e.what());
  }
  if (root.IsNull()) r.fail(YAML::Mark(), "listeners", "required key missing (the configuration is empty)");
  if (!root.IsMap())
    r.fail(root.Mark(), "",
           "expected a map of sections (" + sections_binder().names() + "), got " + Reader::describe(root));
  Config c;
  c.source = source;
  try {
    sections_binder().read(Field{&r, "", YAML::Node(), root}, c);
  } catch (const YAML::Exception& e) {  // should not happen: every access is checked
    r.fail(e.mark, "", std::string("YAML error: ") + e.what());
  }
  return c;
}

Config load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  return parse_config(text.str(), path);
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative '*' matching with one backtrack point: linear for patterns
  // with a single '*', and never exponential.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const QueueConfig* match_queue_config(const std::vector<QueueConfig>& queues, std::string_view name) {
  for (const auto& q : queues) {
    if (glob_match(q.pattern, name)) return &q;
  }
  return nullptr;
}

std::string_view default_config_text() { return detail::default_config_yaml; }

Config default_config() { return parse_config(detail::default_config_yaml, "<default>"); }

}  // namespace junction
