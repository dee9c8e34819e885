// Shared by the broker unit tests: a sink that records deliveries and a
// broker over the memory store with a manual clock.
#pragma once

#include <catch2/catch.hpp>

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "broker.h"
#include "mem_store.h"

namespace junction::test {

using namespace junction::core;

struct Got {
  std::string topic;
  std::string payload;
  std::uint8_t qos;
  bool retain;
  bool dup;
  std::uint16_t packet_id;
  std::vector<std::uint32_t> sub_ids;
};

class FakeSink final : public SessionSink {
 public:
  DeliverResult deliver(const Delivery& d) override {
    got.push_back(Got{d.msg.topic, d.msg.payload, d.qos, d.retain, d.dup, d.packet_id,
                      {d.subscription_ids.begin(), d.subscription_ids.end()}});
    return DeliverResult::Sent;
  }
  void resume_received(std::uint16_t id) override { pubrels.push_back(id); }
  bool can_deliver() const override { return open; }
  void session_taken_over() override { taken_over = true; }

  std::vector<Got> got;
  std::vector<std::uint16_t> pubrels;
  bool open = true;
  bool taken_over = false;
};

inline constexpr ProtocolId kTestMqtt{1}, kTestStomp{2};

struct Fixture {
  store::MemStore store;
  ManualClock clock;
  BrokerConfig config;
  std::unique_ptr<Broker> broker;

  Fixture() { restart(); }
  // Every scenario ends with the byte counters checked (Session::queued_bytes
  // against a recount), also across restarts; not while a REQUIRE unwinds.
  ~Fixture() {
    if (std::uncaught_exceptions() == 0) CHECK(queued_bytes_consistent());
  }
  bool queued_bytes_consistent() const {
    if (!broker) return true;
    for (Session* s : broker->sessions_with_prefix("")) {
      if (!s->queued_bytes_consistent()) return false;
    }
    return true;
  }
  void restart() {
    if (broker) CHECK(queued_bytes_consistent());
    broker.reset();
    broker = std::make_unique<Broker>(config, store, clock);
    // What the front-ends register when they are built.
    broker->register_protocol(kTestMqtt, "mqtt");
    broker->register_protocol(kTestStomp, "stomp");
    broker->restore();
  }
  Session* connect(const std::string& id, FakeSink& sink, bool clean = true, std::uint32_t expiry = 0,
                   std::uint16_t receive_max = 65535, bool* present = nullptr) {
    ConnectRequest r;
    r.client_id = id;
    r.clean_start = clean;
    r.session_expiry_s = expiry;
    r.receive_maximum = receive_max;
    r.sink = &sink;
    r.protocol = kTestMqtt;
    ConnectResult res = broker->attach(r);
    if (present) *present = res.session_present;
    broker->start_delivery(res.session);
    return res.session;
  }
  PublishResult publish(const std::string& topic, const std::string& payload, std::uint8_t qos = 0,
                        bool retain = false, Session* from = nullptr) {
    MessageRef m = broker->make_message();
    m->topic = topic;
    m->payload = payload;
    m->qos = qos;
    m->retain = retain;
    PublishResult r = broker->publish(m, from);
    broker->flush();
    return r;
  }
  SubscriptionOptions qos(std::uint8_t q, std::uint32_t id = 0) {
    SubscriptionOptions o;
    o.qos = q;
    o.subscription_id = id;
    return o;
  }
};

}  // namespace junction::test
