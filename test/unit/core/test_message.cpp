// Message's lazily allocated parts: the properties and the encode cache.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "broker.h"
#include "mem_store.h"
#include "message.h"

using namespace junction::core;

TEST_CASE("a message without properties holds none until one is set", "[core][message]") {
  auto m = MessageRef::make();
  CHECK(m->props().empty());
  m->drop_empty_props();
  CHECK(m->props().empty());
  m->mutable_props().content_type = "text/plain";
  CHECK(m->props().content_type == "text/plain");
  m->drop_empty_props();  // not empty: kept
  CHECK(m->props().content_type == "text/plain");
  m->mutable_props().content_type.clear();
  m->drop_empty_props();
  CHECK(m->props().empty());
  // Another message's properties are untouched by this one's.
  auto other = MessageRef::make();
  other->mutable_props().response_topic = "r";
  CHECK(m->props().response_topic.empty());
  CHECK(other->props().response_topic == "r");
}

TEST_CASE("encode cache: each slot keeps its own bytes, in any order of first use", "[core][message]") {
  const std::vector<EncodeSlot> slots = {0, 1, 2, EncodeSlot(kMaxEncodeSlots - 1)};
  for (EncodeSlot first : slots) {
    CAPTURE(int(first));
    EncodeCache c;
    c[first] = "first";
    for (EncodeSlot s : slots) {
      if (s == first) continue;
      CHECK(c[s].empty());
      c[s] = "slot" + std::to_string(int(s));
    }
    CHECK(c[first] == "first");
    for (EncodeSlot s : slots)
      if (s != first) CHECK(c[s] == "slot" + std::to_string(int(s)));
  }
}

TEST_CASE("encode slots and protocol ids are registered by name", "[core][message]") {
  junction::store::MemStore store;
  ManualClock clock;
  BrokerConfig config;
  Broker b(config, store, clock);
  const EncodeSlot a = b.encode_slot("format a");
  CHECK(b.encode_slot("format b") != a);
  CHECK(b.encode_slot("format a") == a);  // two listeners of one protocol share it
  for (std::size_t i = 2; i < kMaxEncodeSlots; ++i) b.encode_slot("more " + std::to_string(i));
  CHECK_THROWS_AS(b.encode_slot("one too many"), std::logic_error);

  b.register_protocol(ProtocolId{7}, "seven");
  b.register_protocol(ProtocolId{7}, "seven");  // again: fine
  CHECK(b.protocol_names()[7] == "seven");
  CHECK_THROWS_AS(b.register_protocol(ProtocolId{7}, "other"), std::logic_error);
  CHECK_THROWS_AS(b.register_protocol(ProtocolId{kMaxProtocols}, "big"), std::logic_error);
}
