// junction::bench topology — who publishes where and who subscribes to
// what, per scenario. Pure data, built from Options before any socket
// exists (and unit-tested as such).
//
//   fanin    P publishers -> <prefix>/fanin -> S subscribers (each gets all)
//   fanout   1 publisher  -> <prefix>/fanout -> S subscribers
//   pairs    publisher i  -> <prefix>/pairs/i -> subscriber i, N pairs
//   queue    P producers  -> one queue -> C competing consumers (one group):
//            --queue-mode queue: publish and subscribe `$queue/<name>`
//            --queue-mode share: publish <prefix>/queue/<name>, subscribe
//            `$share/bench/<prefix>/queue/<name>`
//   latency  1 publisher  -> <prefix>/latency -> 1 subscriber, fixed rate
//   conns    K subscribers, subscriber i on <prefix>/conns/i, no publisher
//
// queue --backlog N: the same queue, but the producers publish N messages
// in all before any consumer connects (backlog_share() splits them).
//
// With --protocol stomp, topics become destinations `/topic/<prefix>.fanin`
// etc. and the queue `/queue/<name>` (see stomp_client.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "options.h"

namespace junction::bench {

struct PublisherSpec {
  std::string topic;
};

struct SubscriberSpec {
  std::string filter;
  std::uint32_t group = 0;
};

struct Topology {
  std::vector<PublisherSpec> publishers;
  std::vector<SubscriberSpec> subscribers;
  std::vector<std::vector<std::uint32_t>> feeds;  // per group: its publishers
  std::string description;                        // one line for humans and JSON
};

Topology build_topology(const Options& o);

// queue --backlog: the fill messages producer `producer` publishes. N is
// spread evenly; the first N % P producers publish one more.
std::uint32_t backlog_share(const Options& o, std::uint32_t producer);

}  // namespace junction::bench
