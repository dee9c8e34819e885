// junction::bench Client: shared failure handling and the protocol factory.
#include "client.h"

#include "mqtt_client.h"
#include "stomp_client.h"

namespace junction::bench {

std::string Client::uv_error(int status) {
  return std::string(uv_strerror(status)) + " (" + uv_err_name(status) + ")";
}

void Client::failure(const std::string& why) {
  if (failed_) return;
  failed_ = true;
  events_.on_failure(*this, why);
  stream_.close();
}

void Client::on_disconnect(int status) {
  if (closing_ || failed_) return;
  failed_ = true;
  events_.on_failure(*this, status == UV_EOF ? std::string("connection closed by the broker")
                                             : "connection error: " + uv_error(status));
}

std::unique_ptr<Client> make_client(const Options& o, Io& io, ClientEvents& events, std::uint32_t index,
                                    std::string& why) {
  why.clear();
  if (o.protocol == Protocol::Stomp) return std::make_unique<StompClient>(io, events, index);
  return std::make_unique<MqttClient>(io, events, index, o.mqtt_version);
}

}  // namespace junction::bench
