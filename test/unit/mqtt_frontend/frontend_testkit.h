// Shared by the in-process front-end tests (mqtt_frontend_tests and
// stomp_frontend_tests): the real MqttConnection / StompConnection driven
// over a fake transport, at unit-test speed.
//
//  * FakeConnectionSink: a core::ConnectionSink that records what the
//    handler wrote (one byte string), close_after_flush / abort, and every
//    pause_reading call; queued_bytes() is whatever the test sets. Like the
//    real transport (gateway/net/connection.cpp) it drops writes once a close
//    was requested; they are counted in late_writes.
//  * BrokerWorld: a Broker over store::MemStore with a ManualClock.
//    commit() ends a loop iteration: the batch is submitted and committed,
//    and the answers that waited for it are released (the pattern of
//    test/unit/core/test_queue.cpp, QFixture::commit).
//  * Conn: one connection as the transport drives it. feed() appends input
//    and presents every unconsumed byte (on_bytes may leave a partial frame,
//    or stop reading); tick() is the loop's once-a-second on_tick and,
//    when it resumed reading, presents the held input again (as the loop
//    does after pause_reading(false));
//    transport_closed() is the transport reporting the end (on_closed()).
//    The destructor closes a connection that is still open, so a handler is
//    never destroyed attached to its session.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker.h"
#include "clock.h"
#include "frontend.h"
#include "log.h"
#include "mem_store.h"

namespace junction::fetest {

inline std::span<const std::uint8_t> span_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class FakeConnectionSink final : public core::ConnectionSink {
 public:
  FakeConnectionSink() {
    info_.peer_address = "127.0.0.1";
    info_.listener = "test 127.0.0.1:0";
    info_.peer_port = 40000;
    info_.loopback = true;
  }

  void write(std::string_view bytes) override {
    if (closing()) {
      late_writes += bytes.size();
      return;
    }
    out.append(bytes);
  }
  std::size_t queued_bytes() const override { return queued; }
  void close_after_flush() override { ++close_calls; }
  void abort() override { ++abort_calls; }
  void pause_reading(bool paused_now) override {
    pauses.push_back(paused_now);
    paused = paused_now;
  }
  const core::ConnectionInfo& info() const override { return info_; }

  bool closing() const { return close_calls != 0 || abort_calls != 0; }

  std::string out;               // everything written, in order
  std::size_t late_writes = 0;   // bytes written after a close was requested (dropped)
  std::size_t queued = 0;        // what queued_bytes() answers
  int close_calls = 0;           // close_after_flush()
  int abort_calls = 0;           // abort()
  std::vector<bool> pauses;      // every pause_reading(x), in order
  bool paused = false;

 private:
  core::ConnectionInfo info_;
};

struct BrokerWorld {
  store::MemStore store;
  core::ManualClock clock;
  std::unique_ptr<core::Broker> broker;

  explicit BrokerWorld(const core::BrokerConfig& config = {}) {
    log::set_level(log::Level::error);  // the front-ends log every refusal at info
    broker = std::make_unique<core::Broker>(config, store, clock);
    broker->restore();
  }
  // End of a loop iteration: submit the batch, let the store commit it, and
  // release the answers that waited for it.
  void commit() {
    broker->flush();
    store.flush();
    broker->on_store_completed();
  }
  std::int64_t now() const { return clock.now_ms(); }
};

class Conn {
 public:
  Conn(core::ProtocolFactory& factory, core::Clock& clock) : clock_(clock), h_(factory.create(sink)) {}
  // Also checks that nothing was written after a close was requested (the
  // front-ends promise it; the real transport would drop it). Not while a
  // REQUIRE unwinds.
  virtual ~Conn() {
    transport_closed();
    if (std::uncaught_exceptions() == 0) CHECK(sink.late_writes == 0);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Bytes from the peer: appended to what is still unconsumed, all of it
  // presented (unless the handler closed or paused the connection).
  void feed(std::string_view bytes) {
    in_.append(bytes);
    pump();
  }
  void pump() {
    if (gone_ || sink.closing() || sink.paused || in_.empty()) return;
    const std::size_t used = h_->on_bytes(span_of(in_));
    REQUIRE(used <= in_.size());
    in_.erase(0, used);
  }
  // The loop's tick at the clock's current time; held input is presented
  // again once reading resumed.
  void tick() {
    if (gone_) return;
    const bool was_paused = sink.paused;
    h_->on_tick(clock_.now_ms());
    if (was_paused) pump();  // only a resume makes the transport present held input again
  }
  // The transport is gone (after a close, or the peer went away).
  void transport_closed() {
    if (gone_) return;
    gone_ = true;
    h_->on_closed();
  }
  void drained() { h_->on_drained(); }

  // What was written since the previous take_output().
  std::string take_output() {
    std::string s = sink.out.substr(read_);
    read_ = sink.out.size();
    return s;
  }
  bool unread_output() const { return read_ < sink.out.size(); }
  std::size_t unconsumed_input() const { return in_.size(); }
  bool gone() const { return gone_; }
  core::ProtocolHandler& handler() { return *h_; }

  FakeConnectionSink sink;

 protected:
  core::Clock& clock_;
  std::unique_ptr<core::ProtocolHandler> h_;
  std::string in_;
  std::size_t read_ = 0;
  bool gone_ = false;
};

}  // namespace junction::fetest
