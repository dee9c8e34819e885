// junction::app — from the typed configuration (config.h) to the option
// structs each module takes: the store, the broker, every client protocol's
// factory, the listeners, the password and ACL files. The one place that
// copies configuration fields into module options.
#pragma once

#include <memory>

#include "auth_service.h"
#include "broker.h"
#include "client_protocol.h"
#include "config.h"
#include "listener.h"
#include "lmdb_options.h"
#include "mqtt_protocol.h"
#include "store.h"
#include "http_protocol.h"
#include "stomp_protocol.h"

namespace junction::app {

// Throws std::runtime_error (the data directory cannot be made, LMDB fails).
std::unique_ptr<store::Store> open_store(const StoreConfig& s);
// For durability sync and batch (memory opens a MemStore instead).
store::LmdbOptions lmdb_options(const StoreConfig& s);
core::BrokerConfig broker_config(const Config& cfg);
frontend::ClientOptions client_options(const Config& cfg, const ListenerConfig& l);
mqtt::MqttOptions mqtt_options(const Config& cfg, const ListenerConfig& l);
stomp::StompOptions stomp_options(const Config& cfg, const ListenerConfig& l);
http::HttpOptions http_options(const Config& cfg);
net::ListenerSpec listener_spec(const LimitsConfig& limits, const ListenerConfig& l);
// The password and ACL files; null when the configuration names neither.
// Throws auth::AuthFileError ("FILE:LINE: ...").
std::unique_ptr<auth::AuthService> load_auth(const AuthConfig& a);

}  // namespace junction::app
