#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "connection.h"
#include "log.h"
#include "loop_impl.h"

namespace junction::net {

// ---------------------------------------------------------------- Timer ----

class Timer final : public detail::Closable {
 public:
  // Repeat: every `ms`. Once: one run, then the timer frees itself. Alarm:
  // one run per start(), kept for the next start().
  enum class Kind : std::uint8_t { Repeat, Once, Alarm };

  Timer(detail::LoopImpl& loop, std::function<void()> fn, Kind kind)
      : loop_(loop), fn_(std::move(fn)), kind_(kind) {
    uv_timer_init(&loop.uv, &handle_);
    handle_.data = this;
    loop.add_closable(this);
  }

  void start(std::uint64_t ms) noexcept {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&handle_))) return;
    uv_timer_start(&handle_, &Timer::on_fire, ms, kind_ == Kind::Repeat ? ms : 0);
  }

  void close() noexcept override {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&handle_))) return;
    loop_.remove_closable(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_),
             [](uv_handle_t* h) noexcept { delete static_cast<Timer*>(h->data); });
  }

 private:
  static void on_fire(uv_timer_t* h) noexcept {
    auto* t = static_cast<Timer*>(h->data);
    try {
      t->fn_();
    } catch (const std::exception& e) {
      log::error("timer callback failed: %s", e.what());
    } catch (...) {
      log::error("timer callback failed");
    }
    // fn_ may have cancelled this timer or stopped the loop: close() is
    // idempotent and the memory lives until the close callback.
    if (t->kind_ == Kind::Once) t->close();
  }

  detail::LoopImpl& loop_;
  uv_timer_t handle_{};
  std::function<void()> fn_;
  Kind kind_;
};

// ------------------------------------------------------- signal handlers ----

namespace {

class SignalWatch final : public detail::Closable {
 public:
  SignalWatch(detail::LoopImpl& loop, int signo, std::function<void(int)> fn)
      : loop_(loop), fn_(std::move(fn)) {
    uv_signal_init(&loop.uv, &handle_);
    handle_.data = this;
    int r = uv_signal_start(&handle_, &SignalWatch::on_signal, signo);
    if (r != 0) log::error("cannot watch signal %d: %s", signo, uv_strerror(r));
    // A signal watch alone must not keep the loop running.
    uv_unref(reinterpret_cast<uv_handle_t*>(&handle_));
    loop.add_closable(this);
  }

  void close() noexcept override {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&handle_))) return;
    loop_.remove_closable(this);
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_),
             [](uv_handle_t* h) noexcept { delete static_cast<SignalWatch*>(h->data); });
  }

 private:
  static void on_signal(uv_signal_t* h, int signo) noexcept {
    auto* s = static_cast<SignalWatch*>(h->data);
    try {
      s->fn_(signo);
    } catch (const std::exception& e) {
      log::error("signal %d handler failed: %s", signo, e.what());
    } catch (...) {
      log::error("signal %d handler failed", signo);
    }
  }

  detail::LoopImpl& loop_;
  uv_signal_t handle_{};
  std::function<void(int)> fn_;
};

void close_quietly(uv_handle_t* h) noexcept {
  if (!uv_is_closing(h)) uv_close(h, nullptr);
}

}  // namespace

// ------------------------------------------------------------- LoopImpl ----

namespace detail {

LoopImpl::LoopImpl(Loop& o, const core::Clock& c)
    : owner(o), clock(c), read_buffer(new char[kReadBufferSize]) {}

const char* LoopImpl::admit(std::uint64_t& count) noexcept {
  if (admission.max_connections != 0 && connection_count >= admission.max_connections) {
    count = ++refusals.max_connections;
    return "limits.max_connections";
  }
  if (!connect_rate.take(clock.now_ms())) {
    count = ++refusals.connect_rate;
    return "limits.max_connect_rate";
  }
  return nullptr;
}

void LoopImpl::add_closable(Closable* c) noexcept {
  if (c->registered_) return;
  c->registered_ = true;
  c->prev_ = nullptr;
  c->next_ = closables;
  if (closables) closables->prev_ = c;
  closables = c;
}

void LoopImpl::remove_closable(Closable* c) noexcept {
  if (!c->registered_) return;
  c->registered_ = false;
  if (c->prev_) c->prev_->next_ = c->next_;
  else closables = c->next_;
  if (c->next_) c->next_->prev_ = c->prev_;
  c->prev_ = c->next_ = nullptr;
}

std::string_view LoopImpl::intern(const std::string& name) {
  for (const std::string& n : names)
    if (n == name) return n;
  return names.emplace_back(name);
}

std::uint16_t LoopImpl::intern_marks(std::uint32_t high, std::uint32_t low) {
  for (std::size_t i = 0; i < water_marks.size(); ++i)
    if (water_marks[i] == std::pair(high, low)) return static_cast<std::uint16_t>(i);
  // One entry per distinct listener/connector setting: a handful. Should a
  // config ever have 65,536, the rest share the last one.
  if (water_marks.size() > 0xffff) return 0xffff;
  water_marks.emplace_back(high, low);
  return static_cast<std::uint16_t>(water_marks.size() - 1);
}

void LoopImpl::add_connection(Connection* c) noexcept {
  c->prev_ = nullptr;
  c->next_ = connections;
  if (connections) connections->prev_ = c;
  connections = c;
  ++connection_count;
  update_epoll_ref();
  if (!tick_started && !stopping) {
    tick_started = true;
    uv_timer_start(&tick, &LoopImpl::on_tick, 1000, 1000);
  }
}

void LoopImpl::for_each_connection(const std::function<void(Connection*)>& fn) {
  for (Connection* c = connections; c != nullptr; c = c->next_) fn(c);
}

void LoopImpl::remove_connection(Connection* c) noexcept {
  if (c->prev_) c->prev_->next_ = c->next_;
  else if (connections == c) connections = c->next_;
  if (c->next_) c->next_->prev_ = c->prev_;
  c->prev_ = c->next_ = nullptr;
  --connection_count;
  update_epoll_ref();
  // Rare (a close racing a flush or a resume), so a linear erase is fine.
  if (c->in_dirty) {
    dirty.erase(std::remove(dirty.begin(), dirty.end(), c), dirty.end());
    c->in_dirty = false;
  }
  if (c->in_replay) {
    replay.erase(std::remove(replay.begin(), replay.end(), c), replay.end());
    c->in_replay = false;
  }
}

void LoopImpl::update_epoll_ref() noexcept {
  const bool want = connection_count != 0 && !stopping;
  if (want == epoll_watch_ref || epoll_fd < 0 || uv_is_closing(reinterpret_cast<uv_handle_t*>(&epoll_watch))) return;
  epoll_watch_ref = want;
  if (want) uv_ref(reinterpret_cast<uv_handle_t*>(&epoll_watch));
  else uv_unref(reinterpret_cast<uv_handle_t*>(&epoll_watch));
}

void LoopImpl::on_epoll(uv_poll_t* h, int, int) noexcept {
  auto* self = static_cast<LoopImpl*>(h->data);
  if (self->io_ns == 0) self->io_ns = uv_hrtime();
  // Level-triggered: what one batch leaves is reported again at once, so
  // one batch per wake-up lets libuv's other handles have their turn.
  // Connections closed during the batch are finished later (reaper), so
  // every pointer in it stays valid.
  epoll_event events[256];
  const int n = ::epoll_wait(self->epoll_fd, events, 256, 0);
  for (int i = 0; i < n; ++i) static_cast<Connection*>(events[i].data.ptr)->on_events(events[i].events);
}

void LoopImpl::schedule_close(Connection* c) noexcept {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&reaper))) {
    // After the loop's last pass (a close during teardown): nothing can
    // run later any more, so finish now.
    Connection::finish_close(c);
    return;
  }
  closing.push_back(c);
  if (!reaper_active && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&reaper))) {
    reaper_active = true;
    uv_idle_start(&reaper, &LoopImpl::on_reap);
  }
}

void LoopImpl::on_reap(uv_idle_t* h) noexcept {
  auto* self = static_cast<LoopImpl*>(h->data);
  // An owner told of a close may close more (a Connector its next attempt).
  while (!self->closing.empty()) {
    std::vector<Connection*> batch;
    batch.swap(self->closing);
    for (Connection* c : batch) Connection::finish_close(c);
  }
  uv_idle_stop(&self->reaper);
  self->reaper_active = false;
  // on_closed() work (store, other sinks) gets flushed this iteration.
  if (self->stopping) {
    close_quietly(reinterpret_cast<uv_handle_t*>(&self->reaper));
  } else if (!self->dirty.empty()) {
    self->request_pass();
  }
}

void LoopImpl::mark_dirty(Connection* c) noexcept {
  if (c->in_dirty || stopping) return;
  c->in_dirty = true;
  dirty.push_back(c);
  request_pass();
}

void LoopImpl::mark_replay(Connection* c) noexcept {
  if (c->in_replay || stopping) return;
  c->in_replay = true;
  replay.push_back(c);
  request_pass();
}

void LoopImpl::request_pass() noexcept {
  if (idle_active || stopping) return;
  idle_active = true;
  uv_idle_start(&idle, &LoopImpl::on_idle);
}

void LoopImpl::on_idle(uv_idle_t* h) noexcept {
  auto* self = static_cast<LoopImpl*>(h->data);
  if (self->replay.empty()) return;  // only here so poll does not sleep
  std::vector<Connection*> batch;
  batch.swap(self->replay);
  for (Connection* c : batch) c->in_replay = false;
  // Each replay may close connections, but they are finished later (the
  // reaper, in a later pass), so every pointer in `batch` stays valid here.
  for (Connection* c : batch) c->replay();
}

void LoopImpl::on_prepare(uv_prepare_t* h) noexcept {
  auto* self = static_cast<LoopImpl*>(h->data);
  self->prepare_ns = uv_hrtime();
  self->io_ns = 0;
}

void LoopImpl::record_iteration() noexcept {
  const std::uint64_t now = uv_hrtime();
  if (last_check_ns != 0 && prepare_ns >= last_check_ns) {
    // Busy: after the last iteration up to poll (timers, idle work), and
    // from the first I/O callback (or poll's return) to now.
    const std::uint64_t woke = io_ns != 0 ? io_ns : now;
    const std::uint64_t busy_ns = (prepare_ns - last_check_ns) + (now - woke);
    const double busy = double(busy_ns) * 1e-9;
    std::size_t i = 0;
    while (i + 1 < IterationStats::kBounds.size() && busy > IterationStats::kBounds[i]) ++i;
    if (busy <= IterationStats::kBounds[i]) ++iterations.buckets[i];
    ++iterations.count;
    iterations.busy_sum_s += busy;
    iterations.idle_sum_s += double(woke - prepare_ns) * 1e-9;
  }
  last_check_ns = now;
}

void LoopImpl::on_check(uv_check_t* h) noexcept {
  auto* self = static_cast<LoopImpl*>(h->data);
  self->record_iteration();
  for (std::size_t i = 0; i < self->hooks.size(); ++i) {
    try {
      self->hooks[i]();
    } catch (const std::exception& e) {
      log::error("end-of-iteration hook failed: %s", e.what());
    } catch (...) {
      log::error("end-of-iteration hook failed");
    }
  }
  // Writes made while flushing (on_drained) land in a fresh list and go out
  // in the next iteration, which the idle handle makes immediate.
  std::vector<Connection*> batch;
  batch.swap(self->dirty);
  for (Connection* c : batch) c->in_dirty = false;
  for (Connection* c : batch) c->flush();
  if (self->dirty.empty()) {
    batch.clear();
    self->dirty.swap(batch);  // keep the capacity
  }
  if (self->dirty.empty() && self->replay.empty() && self->idle_active) {
    self->idle_active = false;
    uv_idle_stop(&self->idle);
  }
}

void LoopImpl::on_tick(uv_timer_t* h) noexcept {
  auto* self = static_cast<LoopImpl*>(h->data);
  std::int64_t now = self->clock.now_ms();
  // A handler may close connections here; they stay linked until the
  // reaper finishes them, which never happens inside this loop.
  self->for_each_connection([now](Connection* c) {
    if (c->open()) c->tick(now);
  });
}

}  // namespace detail

// ----------------------------------------------------------------- Loop ----

namespace {
const core::SystemClock system_clock;  // stateless
}

Loop::Loop() : Loop(system_clock) {}

Loop::Loop(const core::Clock& clock) : impl_(std::make_unique<detail::LoopImpl>(*this, clock)) {
  detail::LoopImpl& d = *impl_;
  int r = uv_loop_init(&d.uv);
  if (r != 0) throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(r));
  d.uv.data = &d;
  uv_prepare_init(&d.uv, &d.prepare);
  d.prepare.data = &d;
  uv_prepare_start(&d.prepare, &detail::LoopImpl::on_prepare);
  uv_unref(reinterpret_cast<uv_handle_t*>(&d.prepare));
  uv_check_init(&d.uv, &d.check);
  d.check.data = &d;
  uv_check_start(&d.check, &detail::LoopImpl::on_check);
  uv_idle_init(&d.uv, &d.idle);
  d.idle.data = &d;
  uv_timer_init(&d.uv, &d.tick);
  d.tick.data = &d;
  uv_idle_init(&d.uv, &d.reaper);
  d.reaper.data = &d;
  d.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (d.epoll_fd < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  r = uv_poll_init(&d.uv, &d.epoll_watch, d.epoll_fd);
  if (r != 0) throw std::runtime_error(std::string("cannot watch the connections' epoll set: ") + uv_strerror(r));
  d.epoll_watch.data = &d;
  uv_poll_start(&d.epoll_watch, UV_READABLE, &detail::LoopImpl::on_epoll);
  uv_unref(reinterpret_cast<uv_handle_t*>(&d.epoll_watch));
  // None of these alone is a reason to keep running.
  uv_unref(reinterpret_cast<uv_handle_t*>(&d.check));
  uv_unref(reinterpret_cast<uv_handle_t*>(&d.idle));
  uv_unref(reinterpret_cast<uv_handle_t*>(&d.tick));
}

namespace {

// uv_loop_close() and, when it fails, a log line naming what is still open.
int close_uv_loop(detail::LoopImpl& d) noexcept {
  int r = uv_loop_close(&d.uv);
  d.closed = true;
  d.close_result = r;
  if (r != 0) {
    std::string open;
    uv_walk(
        &d.uv,
        [](uv_handle_t* h, void* arg) noexcept {
          auto* s = static_cast<std::string*>(arg);
          if (!s->empty()) s->append(", ");
          s->append(uv_handle_type_name(h->type));
          if (uv_is_closing(h)) s->append(" (closing)");
        },
        &open);
    log::error("event loop closed with handles still open (%s): %s", uv_strerror(r), open.c_str());
  }
  return r;
}

}  // namespace

Loop::~Loop() {
  detail::LoopImpl& d = *impl_;
  if (!d.closed) {
    stop();
    uv_run(&d.uv, UV_RUN_DEFAULT);  // close callbacks
    close_uv_loop(d);
  }
  // Freeing a uv_loop_t that still has handles would turn a reported leak
  // into a use-after-free in their close callbacks; keep it instead.
  if (d.close_result != 0) (void)impl_.release();
}

int Loop::run() {
  detail::LoopImpl& d = *impl_;
  if (d.closed) return d.close_result;
  uv_run(&d.uv, UV_RUN_DEFAULT);
  stop();  // whatever is still open when uv_run ran out of work
  uv_run(&d.uv, UV_RUN_DEFAULT);
  return close_uv_loop(d);
}

void Loop::stop() noexcept {
  detail::LoopImpl& d = *impl_;
  if (d.stopping) return;
  d.stopping = true;
  abort_connections();
  while (d.closables != nullptr) {
    detail::Closable* c = d.closables;
    c->close();
    d.remove_closable(c);  // in case close() did not (it should)
  }
  d.dirty.clear();
  d.replay.clear();
  close_quietly(reinterpret_cast<uv_handle_t*>(&d.check));
  close_quietly(reinterpret_cast<uv_handle_t*>(&d.prepare));
  close_quietly(reinterpret_cast<uv_handle_t*>(&d.idle));
  close_quietly(reinterpret_cast<uv_handle_t*>(&d.tick));
  // Every connection is closing now: the epoll set has nothing left to say.
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&d.epoll_watch))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&d.epoll_watch), [](uv_handle_t* h) noexcept {
      auto* self = static_cast<detail::LoopImpl*>(h->data);
      ::close(self->epoll_fd);
      self->epoll_fd = -1;
    });
  }
  if (!d.reaper_active) close_quietly(reinterpret_cast<uv_handle_t*>(&d.reaper));
}

bool Loop::stopping() const noexcept { return impl_->stopping; }

void Loop::on_iteration_end(std::function<void()> fn) { impl_->hooks.push_back(std::move(fn)); }

Timer* Loop::every(std::uint64_t ms, std::function<void()> fn) {
  if (impl_->stopping) return nullptr;
  auto* t = new Timer(*impl_, std::move(fn), Timer::Kind::Repeat);
  t->start(ms);
  return t;
}

void Loop::after(std::uint64_t ms, std::function<void()> fn) {
  if (impl_->stopping) return;
  auto* t = new Timer(*impl_, std::move(fn), Timer::Kind::Once);
  t->start(ms);
}

Timer* Loop::alarm(std::function<void()> fn) {
  if (impl_->stopping) return nullptr;
  return new Timer(*impl_, std::move(fn), Timer::Kind::Alarm);
}

void Loop::arm(Timer* t, std::uint64_t ms) noexcept {
  if (t != nullptr && !impl_->stopping) t->start(ms);
}

void Loop::cancel(Timer* t) noexcept {
  if (t != nullptr) t->close();
}

void Loop::on_signal(int signo, std::function<void(int)> fn) {
  if (impl_->stopping) return;
  new SignalWatch(*impl_, signo, std::move(fn));  // owned by the loop
}

std::int64_t Loop::now_ms() const noexcept { return impl_->clock.now_ms(); }

std::size_t Loop::connection_count() const noexcept { return impl_->connection_count; }

void Loop::set_admission_limits(AdmissionLimits limits) noexcept {
  detail::LoopImpl& d = *impl_;
  d.admission = limits;
  d.connect_rate = core::TokenBucket(limits.max_connect_rate, d.clock.now_ms());
}

AdmissionRefusals Loop::admission_refusals() const noexcept { return impl_->refusals; }
Traffic Loop::traffic() const noexcept { return impl_->traffic; }

const IterationStats& Loop::iteration_stats() const noexcept { return impl_->iterations; }

void Loop::abort_connections() noexcept {
  // abort() only starts the close; unlinking happens in the close callback.
  impl_->for_each_connection([](Connection* c) { c->abort(); });
}

uv_loop_s* Loop::uv() noexcept { return &impl_->uv; }

// ---------------------------------------------------------------- Async ----

struct Async::State {
  uv_async_t handle{};
  std::function<void()> fn;
  std::mutex mutex;         // orders send() against close()
  bool open = false;        // handle initialised and not closed
  bool owner_gone = false;  // ~Async ran
  bool handle_gone = true;  // no close callback pending
};

Async::Async(Loop& loop, std::function<void()> fn) : loop_(loop), state_(new State) {
  state_->fn = std::move(fn);
  detail::LoopImpl& d = loop.impl();
  if (d.stopping) return;  // send() will do nothing
  uv_async_init(&d.uv, &state_->handle, [](uv_async_t* h) noexcept {
    auto* s = static_cast<State*>(h->data);
    try {
      s->fn();
    } catch (const std::exception& e) {
      log::error("async callback failed: %s", e.what());
    } catch (...) {
      log::error("async callback failed");
    }
  });
  state_->handle.data = state_;
  state_->open = true;
  state_->handle_gone = false;
  d.add_closable(this);
}

Async::~Async() {
  close();
  bool free_now;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->owner_gone = true;
    free_now = state_->handle_gone;
  }
  if (free_now) delete state_;
}

void Async::send() noexcept {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->open) uv_async_send(&state_->handle);
}

void Async::close() noexcept {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (!state_->open) return;
    state_->open = false;
  }
  loop_.impl().remove_closable(this);
  uv_close(reinterpret_cast<uv_handle_t*>(&state_->handle), [](uv_handle_t* h) noexcept {
    auto* s = static_cast<State*>(h->data);
    bool free_now;
    {
      std::lock_guard<std::mutex> lock(s->mutex);
      s->handle_gone = true;
      free_now = s->owner_gone;
    }
    if (free_now) delete s;
  });
}

}  // namespace junction::net
