// Retained bodies at rest: see RetainedStore ("cold") and Broker::RetainedBodies.
//
// A retained message's body can leave memory when three things hold: its
// Messages record is committed (a read of the store finds it), nothing but
// the retained store holds the message object (no session window, no
// delivery in progress: one object per message id at any time, so the
// reference count on disk, persist_refs, stays right), and the retained
// store is its only durable reference (persist_refs 1). Reading it back
// (a subscription matching it) makes it resident again with persist_refs 1;
// the tick makes it cold again once those hold.
#include "broker.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "log.h"
#include "records.h"

namespace junction::core {

void Broker::note_retained(const MessageRef& m) {
  cold_candidates_.push_back(ColdCandidate{m, persistence_.ticket()});
}

void Broker::make_retained_cold() {
  if (cold_candidates_.empty()) return;
  std::size_t kept = 0;
  const std::size_t cold_before = retained_.cold_count();
  for (ColdCandidate& c : cold_candidates_) {
    const bool settled = persistence_.committed(c.ticket) && !persistence_.failed(c.ticket) &&
                         retained_.make_cold(c.msg, [](const Message& m) {
                           return m.persisted && m.persist_refs == 1;
                         });
    if (settled) continue;
    // Still in use: next tick. (No self-move: it would drop the reference.)
    if (&cold_candidates_[kept] != &c) cold_candidates_[kept] = std::move(c);
    ++kept;
  }
  cold_candidates_.resize(kept);
  if (cold_candidates_.capacity() > 4 * kept + 1024) cold_candidates_.shrink_to_fit();
#if defined(__GLIBC__)
  // Bodies freed in bulk (a burst of retained publishes going cold) leave
  // free pages inside the heap that malloc keeps; give them back, so that
  // memory at rest is what is held, not the burst's high-water mark. At
  // most once a tick, and only after many: the trim walks the heap.
  if (retained_.cold_count() >= cold_before + 4096) malloc_trim(0);
#endif
}

void Broker::drop_replaced_retained(const RetainedStore::Replaced& old) {
  persistence_.erase(store::Table::Retained, store::u64_key(old.id()));
  if (old.msg) {
    persistence_.persist_unref(*old.msg);
  } else {
    // A cold message had no other holder: its record goes with it.
    persistence_.erase(store::Table::Messages, store::u64_key(old.cold_id));
  }
}

MessageRef Broker::RetainedBodies::read_copy(std::uint64_t id) {
  // Quietly null when gone: a subscription's backlog may ask for one that
  // was replaced (and its record erased) since the subscription.
  std::string value;
  store::StoredMessage rec;
  if (!b_.store_.get(store::Table::Messages, store::u64_key(id), value) || !store::decode(value, rec)) {
    return MessageRef();
  }
  MessageRef m = from_record(rec);
  m->persisted = false;  // the store's record belongs to the retained node
  return m;
}

MessageRef Broker::RetainedBodies::read_retained(std::uint64_t id) {
  MessageRef m = read_copy(id);
  if (!m) {
    // The node holds this id: its record must be there.
    log::error("store: retained message %llu is missing or unreadable", static_cast<unsigned long long>(id));
    return m;
  }
  m->persisted = true;
  m->persist_refs = 1;  // the retained store's
  b_.note_retained(m);
  return m;
}

}  // namespace junction::core
