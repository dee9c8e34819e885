// amqp://user:pass@host:port/vhost and amqps://... (RabbitMQ's URI
// scheme). Pure. Defaults: user/password guest, port 5672 (amqps: 5671),
// vhost "/" (also for an empty path or "/"; a vhost named "/" in a longer
// form is "%2F"). User, password and vhost are percent-decoded; IPv6
// literals go in brackets. amqps only sets `tls`: the certificates come
// from the bridge's configuration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::amqp {

struct AmqpUri {
  std::string user = "guest", password = "guest";
  std::string host;
  std::uint16_t port = 5672;
  std::string vhost = "/";
  bool tls = false;  // amqps://
  bool operator==(const AmqpUri&) const = default;
};

// nullopt with `error` set when the text is not a usable amqp:// or amqps:// URI.
std::optional<AmqpUri> parse_amqp_uri(std::string_view text, std::string& error);

}  // namespace junction::amqp
