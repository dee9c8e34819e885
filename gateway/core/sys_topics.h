// junction::core::SysTopics — the broker's statistics as the MQTT `$SYS`
// tree Mosquitto users know (`mosquitto_sub -t '$SYS/#' -v`): retained QoS 0
// messages under $SYS/broker/ whose payload is plain text (decimal numbers),
// Mosquitto's names where Mosquitto has the same figure (README "$SYS").
//
// Invariants:
//  - Driven by the broker's 1 s tick (main.cpp calls tick() after
//    Broker::tick()); an update runs every `interval_s` seconds, the first
//    one interval after start(). interval_s 0: nothing is ever published.
//  - A topic is published only when its text changed since its last
//    publication; uptime changes every time. `version` goes out once, at start().
//  - Published through Broker::publish_volatile: never written to the store
//    (no store write per interval; nothing stale after a restart), and
//    routed like any message, so ACL read rules apply to $SYS subscribers.
//  - Off the hot path: an update reads counters the core and the net layer
//    keep anyway; nothing is added per message.
//
// The core does not see bytes on the wire or front-end counters: the
// composition root registers SysSources that report them (STYLE 6: the core
// never includes net or protocol headers).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::core {

class Broker;

// Figures a source reports, each under $SYS/broker/<name>.
class SysReport {
 public:
  void add(std::string_view name, std::uint64_t value);
  void add_text(std::string_view name, std::string_view value);

  const std::vector<std::pair<std::string, std::string>>& values() const { return values_; }
  void clear() { values_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// Called once per update on the loop thread; fills the report.
using SysSource = std::function<void(SysReport&)>;

inline constexpr std::string_view kSysBrokerPrefix = "$SYS/broker/";

class SysTopics {
 public:
  // `version`: the text of $SYS/broker/version ("junction 1.2.3").
  // Uptime counts from construction (the broker's clock).
  SysTopics(Broker& broker, std::uint32_t interval_s, std::string version);
  SysTopics(const SysTopics&) = delete;
  SysTopics& operator=(const SysTopics&) = delete;

  void add_source(SysSource source) { sources_.push_back(std::move(source)); }

  void start();  // publishes version; the first update is due one interval later
  void tick();   // about once a second: updates when due

  bool enabled() const { return interval_ms_ > 0; }
  // Messages published so far (tests and logs).
  std::uint64_t published() const { return published_; }

 private:
  void update();
  void collect(SysReport& r) const;  // the core's own figures
  void publish(const std::string& name, const std::string& value);

  Broker& broker_;
  std::int64_t interval_ms_;
  std::string version_;
  std::int64_t started_ms_;
  std::int64_t next_ms_ = 0;
  bool started_ = false;
  std::vector<SysSource> sources_;
  std::map<std::string, std::string, std::less<>> last_;  // name -> text last published
  SysReport report_;  // reused between updates
  std::uint64_t published_ = 0;
};

}  // namespace junction::core
