// junction::bench LossTracker: bitmap bookkeeping.
#include "tracker.h"

#include <algorithm>

namespace junction::bench {

std::uint64_t SeqSet::missing_from(const SeqSet& other) const {
  std::uint64_t n = 0;
  for (std::size_t w = 0; w < bits_.size(); ++w) {
    const std::uint64_t theirs = w < other.bits_.size() ? other.bits_[w] : 0;
    n += static_cast<std::uint64_t>(__builtin_popcountll(bits_[w] & ~theirs));
  }
  return n;
}

void LossTracker::init(std::uint32_t publishers, std::vector<std::vector<std::uint32_t>> feeds) {
  publishers_ = publishers;
  accepted_.assign(publishers, SeqSet{});
  feeds_ = std::move(feeds);
  received_.assign(feeds_.size() * publishers, SeqSet{});
  duplicates_ = 0;
}

bool LossTracker::received(std::uint32_t group, std::uint32_t pub, std::uint32_t seq) {
  if (group >= feeds_.size() || pub >= publishers_) return false;
  if (received_[static_cast<std::size_t>(group) * publishers_ + pub].insert(seq)) return true;
  ++duplicates_;
  return false;
}

std::uint64_t LossTracker::outstanding() const {
  std::uint64_t n = 0;
  for (std::size_t g = 0; g < feeds_.size(); ++g) {
    for (std::uint32_t p : feeds_[g]) {
      const std::uint64_t want = accepted_[p].size();
      const std::uint64_t got = received_[g * publishers_ + p].size();
      // Cheap estimate during the drain: counts, not set difference.
      n += want > got ? want - got : 0;
    }
  }
  return n;
}

std::uint64_t LossTracker::lost() const {
  std::uint64_t n = 0;
  for (std::size_t g = 0; g < feeds_.size(); ++g)
    for (std::uint32_t p : feeds_[g]) n += accepted_[p].missing_from(received_[g * publishers_ + p]);
  return n;
}

std::uint64_t LossTracker::accepted_count() const {
  std::uint64_t n = 0;
  for (const SeqSet& s : accepted_) n += s.size();
  return n;
}

}  // namespace junction::bench
