// Message's lazily allocated parts: the properties and the encode cache.
#include <catch2/catch.hpp>

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
  for (EncodeSlot first : {kMqttV5Properties, kStompHeadersEscaped, kStompHeadersRaw}) {
    CAPTURE(int(first));
    EncodeCache c;
    c[first] = "first";
    for (EncodeSlot s : {kMqttV5Properties, kStompHeadersEscaped, kStompHeadersRaw}) {
      if (s == first) continue;
      CHECK(c[s].empty());
      c[s] = "slot" + std::to_string(int(s));
    }
    CHECK(c[first] == "first");
    for (EncodeSlot s : {kMqttV5Properties, kStompHeadersEscaped, kStompHeadersRaw})
      if (s != first) CHECK(c[s] == "slot" + std::to_string(int(s)));
  }
}
