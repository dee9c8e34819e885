// junction::bench Engine traffic: the publish pump, acknowledgements and
// deliveries. Hot path: no allocation per message (the output buffers and
// bitmaps grow geometrically and are reused).
#include <algorithm>

#include "engine.h"

namespace junction::bench {

namespace {
constexpr std::uint64_t kMaxBurst = 4096;  // rate mode: most messages released at once per publisher
}  // namespace

void Engine::wake_idle() {
  if (idle_active_ || o_.qos != 0 || rate_per_pub_ > 0) return;
  if (phase_ != Phase::Warmup && phase_ != Phase::Measure) return;
  uv_idle_start(&idle_, &Engine::on_idle);
  idle_active_ = true;
}

void Engine::on_idle(uv_idle_t* h) { static_cast<Engine*>(h->data)->pump_all(); }

void Engine::on_pace(uv_timer_t* h) { static_cast<Engine*>(h->data)->pump_all(); }

void Engine::pump_all() {
  bool more = false;
  if (publishing()) {
    const std::uint64_t now = uv_hrtime();
    for (Pub& p : pubs_) more = pump_one(p, now) || more;
  }
  if (!more && idle_active_) {
    uv_idle_stop(&idle_);
    idle_active_ = false;
  }
}

bool Engine::pump_one(Pub& p, std::uint64_t now) {
  if (!p.client->stream().open()) return false;
  std::uint64_t n;
  if (rate_per_pub_ > 0) {
    // Messages the schedule says are due since the start, the first at once.
    const double due = static_cast<double>(now - t_traffic_) * 1e-9 * rate_per_pub_;
    const std::uint64_t target = static_cast<std::uint64_t>(due) + 1;
    n = target > p.next_seq ? std::min(target - p.next_seq, kMaxBurst) : 0;
  } else if (o_.qos == 0) {
    n = batch0_;
    if (window0_) {
      const std::uint32_t out = undelivered(p);
      n = out >= o_.qos0_window ? 0 : std::min<std::uint64_t>(n, o_.qos0_window - out);
    }
  } else {
    n = UINT64_MAX;
  }
  if (o_.backlog > 0) n = std::min<std::uint64_t>(n, p.quota - p.next_seq);  // the fill stops at its share
  if (o_.qos > 0) {
    n = p.window > p.inflight ? std::min<std::uint64_t>(n, p.window - p.inflight) : 0;
  } else if (p.client->backed_up()) {
    return false;  // QoS 0: wait for on_writable()
  }
  if (n == 0) return false;
  send(p, static_cast<std::uint32_t>(n), now);
  return o_.qos == 0 && rate_per_pub_ == 0;
}

std::uint32_t Engine::undelivered(const Pub& p) const {
  std::uint32_t low = p.next_seq;
  const std::size_t stride = pubs_.size();
  for (std::uint32_t g : pub_groups_[p.index]) low = std::min(low, seen_[g * stride + p.index]);
  return p.next_seq - low;
}

void Engine::send(Pub& p, std::uint32_t n, std::uint64_t now) {
  Stamp s;
  s.sent_ns = now;
  s.run = run_id_;
  s.publisher = p.index;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint16_t id = 0;
    if (o_.qos > 0) {
      id = p.free_ids.back();
      p.free_ids.pop_back();
      p.seq_of[id] = p.next_seq;
      ++p.inflight;
    }
    s.seq = p.next_seq++;
    p.client->append_publish(id, s);
  }
  published_ += n;
}

void Engine::on_writable(Client& c) {
  if (is_publisher(c) && o_.qos == 0) wake_idle();
}

void Engine::on_publish_ack(Client& c, std::uint16_t id, bool first, bool accepted, bool complete) {
  if (!is_publisher(c)) {
    fatal(role_name(c) + ": acknowledgement of a publish it never sent");
    return;
  }
  Pub& p = pubs_[c.index() - subs_];
  if (id == 0 || id >= p.seq_of.size() || p.seq_of[id] == kFree) {
    fatal(role_name(c) + ": acknowledgement for packet id " + std::to_string(id) + ", which is not in flight");
    return;
  }
  if (first) {
    if (accepted) {
      ++acked_;
      if (track_loss_) tracker_.accepted(p.index, p.seq_of[id]);
    } else {
      ++rejected_;
    }
  }
  if (!complete) return;
  p.seq_of[id] = kFree;
  p.free_ids.push_back(id);
  --p.inflight;
  if (publishing()) pump_one(p, uv_hrtime());
  if (phase_ == Phase::Fill) {
    check_fill();
  } else if (phase_ == Phase::Consume) {
    check_consumed();
  }
}

void Engine::on_message(Client& c, Bytes payload) {
  if (is_publisher(c)) return;
  last_delivery_ms_ = uv_now(&loop_);
  if (payload.size() >= kStampSize) {
    const Stamp s = read_stamp(payload.data());
    if (s.run != run_id_) {
      ++foreign_;
      return;
    }
    const std::uint32_t group = topo_.subscribers[c.index()].group;
    if (track_loss_ && tracker_.received(group, s.publisher, s.seq)) ++consumed_;
    if (window0_ && s.publisher < pubs_.size()) {
      // QoS 0 is delivered in order per publisher and topic: the highest
      // sequence seen frees the window even past messages the broker dropped.
      std::uint32_t& seen = seen_[group * pubs_.size() + s.publisher];
      if (s.seq + 1 > seen) seen = s.seq + 1;
      if (!idle_active_) wake_idle();
    }
    if (phase_ == Phase::Measure) {
      const std::uint64_t now = uv_hrtime();
      hist_.record(now > s.sent_ns ? now - s.sent_ns : 0);
    }
  }
  ++delivered_;
  if (phase_ == Phase::Consume) check_consumed();
}

}  // namespace junction::bench
