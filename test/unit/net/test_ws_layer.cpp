// WsLayer (server side of RFC 6455 with wslay) driven by bytes: the upgrade,
// payloads concatenated across frames and fragments, several packets per
// frame, masking rules, ping/pong, close codes 1000/1002/1009, and the
// frames it sends.
#include <catch2/catch.hpp>
#include <string>

#include "ws_layer.h"
#include "ws_testkit.h"

using namespace junction::net;
using namespace ws_testkit;

namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

WsOptions options(std::uint64_t max_frame = 1024) {
  WsOptions o;
  o.endpoints = {WsEndpoint{"/mqtt", {"mqtt"}, true}, WsEndpoint{"/stomp", {"v12.stomp"}, false}};
  o.text_frames = {false, true};
  o.max_frame_size = max_frame;
  return o;
}

struct Upgraded {
  WsOptions opts;
  WsLayer layer;
  std::string up, down;
  explicit Upgraded(std::uint64_t max_frame = 1024) : opts(options(max_frame)), layer(opts) {
    REQUIRE(layer.on_input(bytes(kUpgrade), up, down) == LayerStatus::Ok);
    REQUIRE(layer.open());
    REQUIRE(down.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0) == 0);
    down.clear();
  }
  LayerStatus feed(const std::string& wire) { return layer.on_input(bytes(wire), up, down); }
};

}  // namespace

TEST_CASE("ws: the upgrade answers 101 and frames may follow in the same read", "[ws]") {
  WsOptions o = options();
  WsLayer layer(o);
  std::string up, down;
  std::string wire = std::string(kUpgrade) + frame(WSLAY_BINARY_FRAME, "\x10\x02hi");
  REQUIRE(layer.on_input(bytes(wire), up, down) == LayerStatus::Ok);
  CHECK(layer.open());
  CHECK(layer.endpoint() == 0);
  CHECK(layer.subprotocol() == "mqtt");
  CHECK(down.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);
  CHECK(up == "\x10\x02hi");
}

TEST_CASE("ws: a refused upgrade answers the HTTP error and ends", "[ws]") {
  WsOptions o = options();
  WsLayer layer(o);
  std::string up, down;
  SECTION("not an upgrade") {
    CHECK(layer.on_input(bytes("GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n"), up, down) == LayerStatus::Error);
    CHECK(down.rfind("HTTP/1.1 426 ", 0) == 0);
  }
  SECTION("malformed") {
    CHECK(layer.on_input(bytes("HELLO\r\n\r\n"), up, down) == LayerStatus::Error);
    CHECK(down.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    CHECK(down.find("Connection: close\r\n") != std::string::npos);
  }
  CHECK_FALSE(layer.open());
  CHECK_FALSE(layer.error().empty());
  CHECK(up.empty());
}

TEST_CASE("ws: payloads form one byte stream across frames and fragments", "[ws]") {
  Upgraded u;
  std::string wire = frame(WSLAY_BINARY_FRAME, "ab", false) + frame(WSLAY_CONTINUATION_FRAME, "cd", false) +
                     frame(WSLAY_PING, "p") +  // control frames may interleave
                     frame(WSLAY_CONTINUATION_FRAME, "ef", true) + frame(WSLAY_TEXT_FRAME, "gh");
  SECTION("in one read") { REQUIRE(u.feed(wire) == LayerStatus::Ok); }
  SECTION("byte by byte") {
    for (char c : wire) REQUIRE(u.feed(std::string(1, c)) == LayerStatus::Ok);
  }
  CHECK(u.up == "abcdefgh");
  auto pong = take_frame(u.down);
  REQUIRE(pong);
  CHECK(pong->opcode == WSLAY_PONG);
  CHECK(pong->payload == "p");
  CHECK_FALSE(pong->masked);  // servers never mask
}

TEST_CASE("ws: outbound messages are unmasked, one per call, in the client's frame type", "[ws]") {
  Upgraded u;
  std::string out;
  REQUIRE(u.layer.on_output(std::string("\x20\x02\x00\x00", 4), out) == LayerStatus::Ok);
  auto f = take_frame(out);
  REQUIRE(f);
  CHECK(f->fin);
  CHECK(f->opcode == WSLAY_BINARY_FRAME);
  CHECK_FALSE(f->masked);
  CHECK(f->payload == std::string("\x20\x02\x00\x00", 4));
  CHECK(out.empty());
  REQUIRE(u.feed(frame(WSLAY_TEXT_FRAME, "x")) == LayerStatus::Ok);
  REQUIRE(u.layer.on_output(std::string(70000, 'z'), out) == LayerStatus::Ok);
  f = take_frame(out);
  REQUIRE(f);
  CHECK(f->opcode == WSLAY_TEXT_FRAME);
  CHECK(f->payload.size() == 70000);
}

TEST_CASE("ws: the peer's close is echoed and ends the stream", "[ws]") {
  Upgraded u;
  REQUIRE(u.feed(frame(WSLAY_BINARY_FRAME, "last") + frame(WSLAY_CONNECTION_CLOSE, std::string("\x03\xe8", 2))) ==
          LayerStatus::Close);
  CHECK(u.up == "last");
  auto f = take_frame(u.down);
  REQUIRE(f);
  CHECK(f->opcode == WSLAY_CONNECTION_CLOSE);
  CHECK(close_code(*f) == 1000);
}

TEST_CASE("ws: protocol violations close with 1002", "[ws]") {
  Upgraded u;
  std::string bad = GENERATE(as<std::string>{},
                             frame(WSLAY_BINARY_FRAME, "x", true, false),         // unmasked client frame
                             frame(WSLAY_BINARY_FRAME, "x", true, true, 4),       // RSV1 without extension
                             frame(WSLAY_PING, "x", false),                 // fragmented control frame
                             frame(WSLAY_CONTINUATION_FRAME, "x"),                // continuation of nothing
                             frame(0x3, "x"));                                    // reserved opcode
  INFO("frame header " << std::hex << int(static_cast<std::uint8_t>(bad[0])) << " " << int(static_cast<std::uint8_t>(bad[1])));
  REQUIRE(u.feed(bad) == LayerStatus::Error);
  INFO(u.layer.error() << " down " << u.down.size());
  CHECK(u.up.empty());
  auto f = take_frame(u.down);
  REQUIRE(f);
  CHECK(f->opcode == WSLAY_CONNECTION_CLOSE);
  CHECK(close_code(*f) == 1002);
  CHECK(u.layer.close_code_sent() == 1002);
}

TEST_CASE("ws: a frame above max_frame_size closes with 1009", "[ws]") {
  Upgraded u(64);
  REQUIRE(u.feed(frame(WSLAY_BINARY_FRAME, std::string(64, 'a'))) == LayerStatus::Ok);
  CHECK(u.up.size() == 64);
  REQUIRE(u.feed(frame(WSLAY_BINARY_FRAME, std::string(65, 'a'))) == LayerStatus::Error);
  auto f = take_frame(u.down);
  REQUIRE(f);
  CHECK(close_code(*f) == 1009);
  CHECK(u.layer.error().find("1009") != std::string::npos);
}

TEST_CASE("ws: shutdown sends close 1000 and nothing after", "[ws]") {
  Upgraded u;
  std::string out;
  u.layer.shutdown(out);
  auto f = take_frame(out);
  REQUIRE(f);
  CHECK(f->opcode == WSLAY_CONNECTION_CLOSE);
  CHECK(close_code(*f) == 1000);
  CHECK(u.layer.on_output("more", out) == LayerStatus::Close);
  CHECK(out.empty());
}
