// libFuzzer: the store's record decoders (store/records), which read what a
// crash, a full disk or an older build left on disk. The first byte picks the
// record type; the rest is the record. Invariants: decoding never crashes or
// allocates beyond the input's size; a record that decodes re-encodes to
// bytes that decode to the same record and encode to the same bytes again
// (version-1 records re-encode as their newest version where one exists).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "records.h"

using namespace junction::store;

namespace {

template <class Record>
void round_trip(std::string_view in) {
  Record r;
  if (!decode(in, r)) return;
  const std::string once = encode(r);
  Record back;
  if (!decode(once, back)) std::abort();
  if (encode(back) != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: round_trip<StoredMessage>(in); break;
    case 1: round_trip<StoredSession>(in); break;
    case 2: round_trip<StoredEntry>(in); break;
    case 3: round_trip<StoredQueueEntry>(in); break;
    case 4: round_trip<StoredQueueMeta>(in); break;
    case 5: round_trip<StoredDelayedMeta>(in); break;
  }
  // Keys: every split either fails or gives back the key it came from.
  std::string_view who;
  std::uint64_t seq = 0;
  if (split_session_entry_key(in, who, seq) && session_entry_key(who, seq) != in) std::abort();
  if (split_queue_entry_key(in, who, seq) && queue_entry_key(who, seq) != in) std::abort();
  std::int64_t due = 0;
  if (split_delayed_key(in, due, seq) && delayed_key(due, seq) != in) std::abort();
  return 0;
}
