// junction::net::Loop — the one event loop of the process (docs/ARCHITECTURE.md).
//
// Iteration order (libuv phases, what runs in each):
//   timers    Loop::every/after callbacks; the 1 s connection tick
//   idle      input left over by a connection whose reading was resumed
//   poll      reads -> ProtocolHandler::on_bytes, writes of what a full
//             socket held back, accepts; Async and signal callbacks
//   check     1. on_iteration_end hooks (broker.flush(): group commit)
//             2. every connection with pending output: one send(); the rest
//                waits for writable (STYLE 8: deliver, then flush once)
//   closing   connection close callbacks -> ProtocolHandler::on_closed
// An idle handle is started whenever work is left for the check phase from
// outside the poll phase (a close callback, a resume), so the loop never
// sleeps in poll with output or a batch pending.
//
// Ownership: the loop owns its timers and signal handlers; Listener and
// Async are owned by the caller but register with the loop so that stop()
// can close them. stop() closes every handle (connections are aborted), then
// run() returns the result of uv_loop_close(): 0 when nothing leaked.
// The Loop must outlive every Listener and Async made on it.
//
// This header does not include uv.h: only gateway/net does (DESIGN, deps).
#pragma once

#include <cstddef>
#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "clock.h"

struct uv_loop_s;

namespace junction::net {

class Loop;
class Timer;  // owned by the loop; see Loop::every

namespace detail {

struct LoopImpl;

// A caller-owned object holding a uv handle that stop() must close.
class Closable {
 public:
  // Closes the handle (uv_close) and unregisters; idempotent.
  virtual void close() noexcept = 0;

 protected:
  ~Closable() = default;

 private:
  friend struct LoopImpl;
  Closable* prev_ = nullptr;
  Closable* next_ = nullptr;
  bool registered_ = false;
};

}  // namespace detail

// Limits over every listener of the loop (config `limits`); 0: unlimited.
// A connection past one is accepted and closed at once, like a listener's
// own max_connections, so the client learns at once instead of timing out.
struct AdmissionLimits {
  std::uint32_t max_connections = 0;   // live connections, all listeners
  std::uint32_t max_connect_rate = 0;  // new connections per second (burst = rate)
};

struct AdmissionRefusals {
  std::uint64_t max_connections = 0;
  std::uint64_t connect_rate = 0;
};

// Bytes read from and sent to every socket of the loop (accepted and
// outbound connections, TLS and WebSocket framing included) since it started.
// How long the loop's iterations are busy (the time between two ends of
// iteration, less the time spent waiting in poll; loop_impl.h says how).
struct IterationStats {
  static constexpr std::array<double, 12> kBounds = {0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                     0.0025,  0.005,   0.01,   0.025,   0.1,    1.0};
  std::array<std::uint64_t, kBounds.size()> buckets{};  // not cumulative: [i] counts (bound[i-1], bound[i]]
  std::uint64_t count = 0;
  double busy_sum_s = 0;
  double idle_sum_s = 0;  // time spent waiting in poll
};

struct Traffic {
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
};

class Loop {
 public:
  // `clock` gives the now_ms passed to ProtocolHandler::on_tick, so handlers
  // and the core agree on time (tests inject a ManualClock).
  explicit Loop(const core::Clock& clock);
  Loop();  // core::SystemClock
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Runs until stop() (or until nothing is left to do), then closes the
  // uv loop. Returns uv_loop_close()'s result; an error is also logged with
  // the handles still open. A Loop runs once.
  int run();
  // Closes every handle: timers, signals, Asyncs, listeners, connections
  // (aborted: queued output is dropped; drain first for a graceful exit).
  // Safe from any loop callback; run() returns once the closes complete.
  void stop() noexcept;
  bool stopping() const noexcept;

  // Runs at the end of every iteration, after I/O callbacks and before
  // connections flush their output. In registration order.
  void on_iteration_end(std::function<void()> fn);

  // Repeating timer (first run after `ms`). The Timer stays valid until
  // cancel() or stop().
  Timer* every(std::uint64_t ms, std::function<void()> fn);
  // One-shot timer; it frees itself after running.
  void after(std::uint64_t ms, std::function<void()> fn);
  // A timer that runs once per arm(); arming again before it ran moves it.
  // It stays valid until cancel() or stop() (null while stopping).
  Timer* alarm(std::function<void()> fn);
  void arm(Timer* t, std::uint64_t ms) noexcept;
  void cancel(Timer* t) noexcept;

  // Calls fn(signo) on the loop thread when `signo` arrives (uv_signal).
  void on_signal(int signo, std::function<void(int)> fn);

  std::int64_t now_ms() const noexcept;

  // Live connections over all listeners (closing ones count until closed).
  std::size_t connection_count() const noexcept;
  // Applies to connections accepted from now on.
  void set_admission_limits(AdmissionLimits limits) noexcept;
  AdmissionRefusals admission_refusals() const noexcept;
  Traffic traffic() const noexcept;
  const IterationStats& iteration_stats() const noexcept;

  // Aborts every live connection (the end of a shutdown grace period).
  void abort_connections() noexcept;

  uv_loop_s* uv() noexcept;
  detail::LoopImpl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<detail::LoopImpl> impl_;
};

// Wakes the loop from another thread: fn runs on the loop thread after one or
// more send() calls (they coalesce). send() is safe from any thread for the
// lifetime of this object, also after the loop closed the handle (then it
// does nothing).
class Async final : private detail::Closable {
 public:
  Async(Loop& loop, std::function<void()> fn);
  ~Async();
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;

  void send() noexcept;

  struct State;  // loop.cpp

 private:
  void close() noexcept override;

  Loop& loop_;
  State* state_;
};

}  // namespace junction::net
