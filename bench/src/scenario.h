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
//   state    (state.cpp) 1 client subscribes K tree filters under `state`,
//            then another publishes K retained messages state/r<i%1000>/<i>
//
// --extra-subscriptions N: idle connections hold N tree filters under the
// first level of <prefix>, the level every measured topic starts with, so
// the broker's walk of each published topic meets the big tree, yet none of
// them matches (tree_may_match() is the check).
//
// queue --backlog N: the same queue, but the producers publish N messages
// in all before any consumer connects (backlog_share() splits them).
//
// With --protocol stomp, topics become destinations `/topic/<prefix>.fanin`
// etc. and the queue `/queue/<name>` (see stomp_client.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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

// Filter i of a large subscription tree under `root`: three levels deep,
// all distinct, half exact and half with wildcards:
//   i even       root/x<i % 1000>/<i>
//   i % 4 == 1   root/+/w<i>
//   i % 4 == 3   root/y<i>/#
// (a `#` filter needs its own second level to be distinct: one client
// subscribing the same filter twice holds one subscription).
std::string tree_filter(std::string_view root, std::uint64_t i);
// True when some tree_filter(root, .) could match `topic`: the shapes
// root/x<digits>/<digits>, root/<any>/w<digits>, root/y<digits>[/...].
bool tree_may_match(std::string_view root, std::string_view topic);
// The root of --extra-subscriptions: the first level of --topic.
std::string extra_tree_root(const Options& o);

// state: the root of its filters, and retained topic i, state/r<i % 1000>/<i>
// (matched by no tree filter: every third level is a number).
inline constexpr std::string_view kStateRoot = "state";
std::string retained_topic(std::uint64_t i);

}  // namespace junction::bench
