// conf/junction.yaml (the embedded default) and the built-in defaults of
// config.h (taken from the modules' option structs) cannot drift apart:
// every section of the file lists every key, and each key's value there is
// the default-constructed Config's. Listeners are the file's own.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "config.h"

using junction::Config;
using junction::parse_config;

namespace {

const char* const kListeners = "listeners:\n  - {protocol: mqtt, port: 1883}\n";

// A Config with only `section` parsed from the file, the rest built in.
// Line numbers are not values.
bool same_section(const std::string& section, Config a, Config b) {
  a.xmpp.line = b.xmpp.line = 0;
  for (auto& q : a.queues) q.line = 0;
  for (auto& q : b.queues) q.line = 0;
  static const std::map<std::string, std::function<bool(const Config&, const Config&)>> eq = {
      {"store", [](const Config& x, const Config& y) { return x.store == y.store; }},
      {"limits", [](const Config& x, const Config& y) { return x.limits == y.limits; }},
      {"queues", [](const Config& x, const Config& y) { return x.queues == y.queues; }},
      {"stomp", [](const Config& x, const Config& y) { return x.stomp == y.stomp; }},
      {"auth", [](const Config& x, const Config& y) { return x.auth == y.auth; }},
      {"xmpp", [](const Config& x, const Config& y) { return x.xmpp == y.xmpp; }},
      {"bridges", [](const Config& x, const Config& y) { return x.bridges == y.bridges; }},
      {"sys", [](const Config& x, const Config& y) { return x.sys == y.sys; }},
      {"log", [](const Config& x, const Config& y) { return x.log == y.log; }},
  };
  REQUIRE(eq.count(section) == 1);
  return eq.at(section)(a, b);
}

// The keys a section accepts, as its unknown-key error lists them.
std::set<std::string> accepted_keys(const std::string& section) {
  std::string message;
  try {
    parse_config(std::string(kListeners) + section + ": {no_such_key: 1}\n", "t.yaml");
  } catch (const junction::ConfigError& e) {
    message = e.what();
  }
  const std::string marker = "expected one of: ";
  const auto at = message.find(marker);
  REQUIRE(at != std::string::npos);
  std::set<std::string> keys;
  std::string list = message.substr(at + marker.size());
  list.pop_back();  // ')'
  for (std::size_t start = 0; start <= list.size();) {
    const auto comma = list.find(", ", start);
    keys.insert(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  return keys;
}

}  // namespace

TEST_CASE("conf/junction.yaml states every built-in default", "[config][defaults]") {
  const Config file = junction::default_config();
  const Config code;
  for (const char* section : {"store", "limits", "queues", "stomp", "auth", "xmpp", "bridges", "sys", "log"}) {
    INFO("section " << section);
    CHECK(same_section(section, file, code));
  }
}

TEST_CASE("conf/junction.yaml lists every key of every section, each at its default", "[config][defaults]") {
  const YAML::Node root = YAML::Load(std::string(junction::default_config_text()));
  const Config code;
  for (const char* section : {"store", "limits", "stomp", "auth", "xmpp", "sys", "log"}) {
    INFO("section " << section);
    const YAML::Node keys = root[section];
    REQUIRE(keys.IsMap());
    std::set<std::string> in_file;
    for (auto it = keys.begin(); it != keys.end(); ++it) {
      const std::string key = it->first.Scalar();
      in_file.insert(key);
      // That one key from the file, everything else built in: the same.
      YAML::Node one;
      one[key] = it->second;
      YAML::Emitter out;
      out << YAML::Flow << one;
      INFO("key " << section << "." << key << ": " << out.c_str());
      CHECK(same_section(section, parse_config(std::string(kListeners) + section + ": " + out.c_str() + "\n", "t.yaml"),
                         code));
    }
    CHECK(in_file == accepted_keys(section));
  }
  // The lists are empty by default.
  CHECK(root["queues"].IsSequence());
  CHECK(root["queues"].size() == 0);
  CHECK(root["bridges"].IsSequence());
  CHECK(root["bridges"].size() == 0);
}

TEST_CASE("listener protocol and transport: enums with their config names", "[config]") {
  const Config c = parse_config(
      "listeners:\n"
      "  - {protocol: mqtt, port: 1}\n"
      "  - {protocol: stomp, transport: tls, port: 2, tls: {cert_file: c, key_file: k}}\n"
      "  - {protocol: mqtt, transport: ws, port: 3}\n"
      "  - {protocol: stomp, transport: wss, port: 4, tls: {cert_file: c, key_file: k}}\n",
      "t.yaml");
  REQUIRE(c.listeners.size() == 4);
  CHECK(c.listeners[0].protocol == junction::Protocol::Mqtt);
  CHECK(c.listeners[0].transport == junction::Transport::Tcp);
  CHECK(c.listeners[1].protocol == junction::Protocol::Stomp);
  CHECK(c.listeners[1].transport == junction::Transport::Tls);
  CHECK(c.listeners[2].transport == junction::Transport::Ws);
  CHECK(c.listeners[3].transport == junction::Transport::Wss);
  CHECK(std::string(junction::protocol_name(junction::Protocol::Mqtt)) == "mqtt");
  CHECK(std::string(junction::protocol_name(junction::Protocol::Stomp)) == "stomp");
  CHECK(std::string(junction::net::transport_name(c.listeners[3].transport)) == "wss");
  // A listener's defaults are the net layer's and the front-end's.
  const junction::ListenerConfig l;
  CHECK(l.transport == junction::Transport::Tcp);
  CHECK(l.bind == "127.0.0.1");
  CHECK(l.port == 0);
  CHECK(l.max_connections == 0);
}
