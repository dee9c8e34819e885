// junction::bench StompClient — STOMP 1.2 (down to 1.1/1.0 if the broker
// says so) client side for the generator, on the project's pure codec
// (stomp_codec.h).
//
// Mapping of the generator's notions:
//   connect      CONNECT accept-version:1.0,1.1,1.2, heart-beat:0,0 -> CONNECTED
//   subscribe    SUBSCRIBE id:0, receipt:sub-0, ack: auto (--qos 0) or
//                client-individual (--qos 1) -> RECEIPT sub-0
//   publish      SEND destination, content-length, qos:<q>; with --qos 1 also
//                receipt:<5-digit packet id> -> RECEIPT = the broker's ack
//   delivery     MESSAGE -> ACK id:<ack> (1.2) or subscription+message-id (1.1)
//                when the subscription is client-individual
// The SEND template is encoded once; the receipt digits and the payload stamp
// are patched in place (the receipt id is fixed-width for that reason).
#pragma once

#include <string>

#include "client.h"
#include "stomp_codec.h"

namespace junction::bench {

class StompClient final : public Client {
 public:
  StompClient(Io& io, ClientEvents& events, std::uint32_t index);

  void subscribe(std::string_view destination, int qos) override;
  void prepare_publish(std::string_view destination, int qos, std::uint32_t payload_size) override;
  void append_publish(std::uint16_t id, const Stamp& stamp) override;
  void disconnect() override;

 private:
  void on_connected(int status) override;
  std::size_t on_data(Bytes data) override;
  bool handle(const stomp::StompFrame& f);
  void ack(const stomp::StompFrame& f);

  stomp::StompFrameParser parser_;
  stomp::StompFrame frame_;
  stomp::Version version_ = stomp::Version::V1_0;
  bool client_acks_ = false;
  std::string send_tmpl_;
  std::size_t receipt_off_ = 0;  // first of 5 digits, or npos
  std::size_t payload_off_ = 0;
  std::uint32_t payload_size_ = 0;
};

}  // namespace junction::bench
