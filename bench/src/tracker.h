// junction::bench LossTracker — which messages the broker accepted and which
// each receiver group got, as bitmaps indexed by publisher sequence number.
//
// A receiver group is the set of connections that together must receive
// every message of its publishers: one subscriber in fanin/fanout/pairs/
// latency, all the competing consumers in `queue`. A message counts as
// lost when the broker acknowledged it (PUBACK / PUBREC / RECEIPT with a
// success code) and some group expecting it never received it during the
// run (including the drain after the last publish). Receiving the same
// message twice in a group counts a duplicate (allowed for QoS 1).
//
// Memory: one bit per published message per (group, publisher) pair that
// actually exchanges messages; appends grow geometrically, no allocation
// per message in steady state.
#pragma once

#include <cstdint>
#include <vector>

namespace junction::bench {

class SeqSet {
 public:
  // Returns false when `seq` was already present.
  bool insert(std::uint32_t seq) {
    const std::size_t w = seq >> 6;
    if (w >= bits_.size()) bits_.resize(w + 1, 0);
    const std::uint64_t m = 1ull << (seq & 63);
    if (bits_[w] & m) return false;
    bits_[w] |= m;
    ++count_;
    return true;
  }
  bool contains(std::uint32_t seq) const {
    const std::size_t w = seq >> 6;
    return w < bits_.size() && (bits_[w] >> (seq & 63)) & 1u;
  }
  std::uint64_t size() const { return count_; }
  // Members of *this missing from `other`.
  std::uint64_t missing_from(const SeqSet& other) const;

 private:
  std::vector<std::uint64_t> bits_;
  std::uint64_t count_ = 0;
};

class LossTracker {
 public:
  // feeds[g] = the publishers whose messages group g must receive.
  void init(std::uint32_t publishers, std::vector<std::vector<std::uint32_t>> feeds);

  void accepted(std::uint32_t pub, std::uint32_t seq) {
    if (pub < accepted_.size()) accepted_[pub].insert(seq);
  }
  // Returns false for a duplicate (or an out-of-range publisher/group).
  bool received(std::uint32_t group, std::uint32_t pub, std::uint32_t seq);

  // Accepted messages some group has not received yet (drain progress).
  std::uint64_t outstanding() const;
  // At the end: the same number, i.e. acknowledged but never delivered.
  std::uint64_t lost() const;
  std::uint64_t duplicates() const { return duplicates_; }
  std::uint64_t accepted_count() const;

 private:
  std::uint32_t publishers_ = 0;
  std::vector<SeqSet> accepted_;                     // per publisher
  std::vector<std::vector<std::uint32_t>> feeds_;    // per group
  std::vector<SeqSet> received_;                     // [group * publishers + pub]
  std::uint64_t duplicates_ = 0;
};

}  // namespace junction::bench
