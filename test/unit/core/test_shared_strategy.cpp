// $share group strategies: round_robin, random, sticky, hash_topic, hash_client.
#include <map>
#include <set>

#include "broker_fixture.h"

using namespace junction;
using namespace junction::core;
using junction::test::FakeSink;
using junction::test::Fixture;

namespace {

struct Group {
  Fixture f;
  FakeSink sinks[3];
  Session* members[3] = {};
  explicit Group(SharedStrategy strategy) {
    f.config.shared_strategy = strategy;
    f.restart();
    for (int i = 0; i < 3; ++i) {
      members[i] = f.connect("w" + std::to_string(i), sinks[i]);
      REQUIRE(f.broker->subscribe(members[i], "$share/g/jobs/#", f.qos(0)) == SubscribeStatus::Granted);
    }
  }
  // Which member got each message, by payload.
  std::map<std::string, int> owners() const {
    std::map<std::string, int> out;
    for (int i = 0; i < 3; ++i)
      for (const auto& g : sinks[i].got) out[g.payload] = i;
    return out;
  }
  PublishResult publish_from(const std::string& client, const std::string& topic, const std::string& payload) {
    MessageRef m = f.broker->make_message();
    m->topic = topic;
    m->payload = payload;
    m->origin_client = client;
    return f.broker->publish(m, nullptr);
  }
};

}  // namespace

TEST_CASE("shared strategy round_robin: in turn", "[core][shared]") {
  Group g(SharedStrategy::RoundRobin);
  for (int i = 0; i < 6; ++i) g.f.publish("jobs/a", std::to_string(i));
  for (const auto& s : g.sinks) CHECK(s.got.size() == 2);
}

TEST_CASE("shared strategy hash_topic: one member per topic, so a topic keeps its order", "[core][shared]") {
  Group g(SharedStrategy::HashTopic);
  std::set<int> used;
  for (int t = 0; t < 12; ++t) {
    const std::string topic = "jobs/device" + std::to_string(t);
    for (int i = 0; i < 5; ++i) g.f.publish(topic, topic + "#" + std::to_string(i));
  }
  const auto owner = g.owners();
  REQUIRE(owner.size() == 60);
  for (int t = 0; t < 12; ++t) {
    const std::string topic = "jobs/device" + std::to_string(t);
    const int first = owner.at(topic + "#0");
    used.insert(first);
    for (int i = 1; i < 5; ++i) CHECK(owner.at(topic + "#" + std::to_string(i)) == first);
  }
  CHECK(used.size() > 1);  // spread over the group
  for (const auto& s : g.sinks) {  // each member sees a topic's messages in order
    std::map<std::string, int> last;
    for (const auto& m : s.got) {
      const auto hash = m.payload.find('#');
      const int n = std::stoi(m.payload.substr(hash + 1));
      const std::string topic = m.payload.substr(0, hash);
      CHECK(n == (last.count(topic) ? last[topic] + 1 : 0));
      last[topic] = n;
    }
  }
}

TEST_CASE("shared strategy hash_client: one member per publisher", "[core][shared]") {
  Group g(SharedStrategy::HashClient);
  for (int c = 0; c < 9; ++c)
    for (int i = 0; i < 4; ++i)
      g.publish_from("dev" + std::to_string(c), "jobs/x" + std::to_string(i), "dev" + std::to_string(c) + "/" +
                                                                                  std::to_string(i));
  const auto owner = g.owners();
  std::set<int> used;
  for (int c = 0; c < 9; ++c) {
    const std::string d = "dev" + std::to_string(c) + "/";
    used.insert(owner.at(d + "0"));
    for (int i = 1; i < 4; ++i) CHECK(owner.at(d + std::to_string(i)) == owner.at(d + "0"));
  }
  CHECK(used.size() > 1);
}

TEST_CASE("shared strategy sticky: one member until it goes, then another", "[core][shared]") {
  Group g(SharedStrategy::Sticky);
  for (int i = 0; i < 10; ++i) g.f.publish("jobs/a", std::to_string(i));
  int holder = -1;
  for (int i = 0; i < 3; ++i) {
    if (!g.sinks[i].got.empty()) {
      CHECK(holder == -1);
      holder = i;
    }
  }
  REQUIRE(holder >= 0);
  CHECK(g.sinks[holder].got.size() == 10);
  g.f.broker->detach(g.members[holder], DetachKind::Normal, 0);
  for (int i = 10; i < 20; ++i) g.f.publish("jobs/a", std::to_string(i));
  int next = -1;
  for (int i = 0; i < 3; ++i) {
    if (i != holder && !g.sinks[i].got.empty()) next = i;
  }
  REQUIRE(next >= 0);
  CHECK(g.sinks[next].got.size() == 10);
}

TEST_CASE("shared strategy random: every message to exactly one member, spread", "[core][shared]") {
  Group g(SharedStrategy::Random);
  for (int i = 0; i < 300; ++i) g.f.publish("jobs/a", std::to_string(i));
  std::size_t total = 0;
  for (const auto& s : g.sinks) {
    total += s.got.size();
    CHECK(s.got.size() > 50);
  }
  CHECK(total == 300);
}
