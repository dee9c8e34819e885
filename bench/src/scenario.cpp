// junction::bench topology per scenario.
#include "scenario.h"

#include <algorithm>
#include <cctype>

namespace junction::bench {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// `level` is `letter` followed by a number, as the tree's x<n>, w<n>, y<n>.
bool lettered(std::string_view level, char letter) {
  return level.size() > 1 && level[0] == letter && all_digits(level.substr(1));
}

// MQTT topic or STOMP destination for a topic path like "bench/fanin".
std::string topic_for(const Options& o, const std::string& path) {
  if (o.protocol == Protocol::Mqtt) return path;
  std::string d = "/topic/" + path;
  return d;
}

void one_topic(Topology& t, const Options& o, const std::string& topic, std::uint32_t pubs, std::uint32_t subs) {
  for (std::uint32_t i = 0; i < pubs; ++i) t.publishers.push_back({topic});
  std::vector<std::uint32_t> all;
  for (std::uint32_t i = 0; i < pubs; ++i) all.push_back(i);
  for (std::uint32_t i = 0; i < subs; ++i) {
    t.subscribers.push_back({topic, i});
    t.feeds.push_back(all);
  }
  t.description = std::to_string(pubs) + (pubs == 1 ? " publisher -> " : " publishers -> ") + topic + " -> " +
                  std::to_string(subs) + (subs == 1 ? " subscriber" : " subscribers") + ", QoS " +
                  std::to_string(o.qos);
}

}  // namespace

Topology build_topology(const Options& o) {
  Topology t;
  const std::string& pre = o.topic_prefix;
  switch (o.scenario) {
    case Scenario::Fanin:
      one_topic(t, o, topic_for(o, pre + "/fanin"), o.publishers, o.subscribers);
      break;
    case Scenario::Fanout:
      one_topic(t, o, topic_for(o, pre + "/fanout"), 1, o.subscribers);
      break;
    case Scenario::Latency:
      one_topic(t, o, topic_for(o, pre + "/latency"), 1, 1);
      t.description += ", " + std::to_string(static_cast<long long>(o.rate)) + " msgs/s";
      break;
    case Scenario::Pairs:
      for (std::uint32_t i = 0; i < o.pairs; ++i) {
        const std::string topic = topic_for(o, pre + "/pairs/" + std::to_string(i));
        t.publishers.push_back({topic});
        t.subscribers.push_back({topic, i});
        t.feeds.push_back({i});
      }
      t.description = std::to_string(o.pairs) + " pairs, publisher i -> " + topic_for(o, pre + "/pairs/i") +
                      " -> subscriber i, QoS " + std::to_string(o.qos);
      break;
    case Scenario::Queue: {
      std::string topic, filter;
      if (o.protocol == Protocol::Stomp) {
        topic = filter = "/queue/" + o.queue_name;
      } else if (o.queue_mode == QueueMode::Queue) {
        topic = filter = "$queue/" + o.queue_name;
      } else {
        topic = pre + "/queue/" + o.queue_name;
        filter = "$share/bench/" + topic;
      }
      std::vector<std::uint32_t> all;
      for (std::uint32_t i = 0; i < o.publishers; ++i) {
        t.publishers.push_back({topic});
        all.push_back(i);
      }
      for (std::uint32_t i = 0; i < o.subscribers; ++i) t.subscribers.push_back({filter, 0});
      t.feeds.push_back(all);
      t.description = std::to_string(o.publishers) + " producers -> " + topic + " -> " +
                      std::to_string(o.subscribers) + " competing consumers on " + filter + ", QoS " +
                      std::to_string(o.qos);
      if (o.backlog > 0) t.description += ", backlog of " + std::to_string(o.backlog) + " drained after the fill";
      break;
    }
    case Scenario::Conns:
      for (std::uint32_t i = 0; i < o.connections; ++i) {
        t.subscribers.push_back({topic_for(o, pre + "/conns/" + std::to_string(i)), i});
        t.feeds.emplace_back();
      }
      t.description = std::to_string(o.connections) + " idle connections, each subscribed to " +
                      topic_for(o, pre + "/conns/i") + " (QoS " + std::to_string(o.qos) + ")";
      break;
    case Scenario::Sink:
      t.description = "discard server";
      break;
    case Scenario::State:
      t.description = std::to_string(o.state_items) + " filters under " + std::string(kStateRoot) +
                      "/ (half wildcards) on one connection, then " + std::to_string(o.state_items) +
                      " retained messages of " + std::to_string(o.size) + " bytes (QoS 1) from another";
      break;
  }
  return t;
}

std::uint32_t backlog_share(const Options& o, std::uint32_t producer) {
  if (o.publishers == 0 || producer >= o.publishers) return 0;
  const std::uint64_t each = o.backlog / o.publishers;
  const std::uint64_t extra = producer < o.backlog % o.publishers ? 1 : 0;
  return static_cast<std::uint32_t>(each + extra);
}

std::string tree_filter(std::string_view root, std::uint64_t i) {
  std::string f(root);
  if (i % 2 == 0) {
    f += "/x" + std::to_string(i % 1000) + "/" + std::to_string(i);
  } else if (i % 4 == 1) {
    f += "/+/w" + std::to_string(i);
  } else {
    f += "/y" + std::to_string(i) + "/#";
  }
  return f;
}

bool tree_may_match(std::string_view root, std::string_view topic) {
  std::vector<std::string_view> levels;
  for (std::size_t at = 0;;) {
    const std::size_t slash = topic.find('/', at);
    levels.push_back(topic.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at));
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (levels[0] != root) return false;
  if (levels.size() >= 2 && lettered(levels[1], 'y')) return true;  // root/y<i>/# matches root/y<i> too
  if (levels.size() != 3) return false;
  return (lettered(levels[1], 'x') && all_digits(levels[2])) || lettered(levels[2], 'w');
}

std::string extra_tree_root(const Options& o) { return o.topic_prefix.substr(0, o.topic_prefix.find('/')); }

std::string retained_topic(std::uint64_t i) {
  return std::string(kStateRoot) + "/r" + std::to_string(i % 1000) + "/" + std::to_string(i);
}

}  // namespace junction::bench
