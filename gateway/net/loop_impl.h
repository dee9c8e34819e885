// Net-internal: the state behind a Loop, shared by loop.cpp, listener.cpp
// and connection.cpp. Includes uv.h; never include it outside gateway/net.
#pragma once

#include <uv.h>

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <functional>
#include <memory>
#include <vector>

#include "loop.h"
#include "token_bucket.h"

namespace junction::net {

class Connection;

namespace detail {

inline constexpr std::size_t kReadBufferSize = 64 * 1024;

struct LoopImpl {
  explicit LoopImpl(Loop& owner, const core::Clock& clock);

  Loop& owner;
  const core::Clock& clock;
  uv_loop_t uv{};
  uv_check_t check{};  // end of iteration: hooks, then flush
  uv_idle_t idle{};    // keeps poll from sleeping while work is pending
  uv_timer_t tick{};   // 1 s on_tick for every connection; started lazily
  // Every connection's socket is in one epoll set of ours, and libuv
  // watches only that set's fd: a connection needs no libuv handle (160 B
  // each for 10,000 idle clients) and costs one epoll_ctl to register,
  // not libuv's probe-and-register four syscalls. Referenced while any
  // connection is open, so an open connection keeps the loop running.
  int epoll_fd = -1;
  uv_poll_t epoll_watch{};
  bool epoll_watch_ref = false;
  // Connections after begin_close(): finished (unlinked, handler told,
  // owner told, freed) from `reaper` in the next loop phase, never under
  // the code that closed them.
  std::vector<Connection*> closing;
  uv_idle_t reaper{};
  bool reaper_active = false;
  bool idle_active = false;
  bool tick_started = false;
  bool stopping = false;
  bool closed = false;
  int close_result = 0;

  std::vector<std::function<void()>> hooks;

  // The one read buffer: a connection reads into it and the handler
  // consumes or copies what it needs before the read callback returns, so
  // idle connections hold no buffer at all.
  std::unique_ptr<char[]> read_buffer;

  // Connections with output to flush / leftover input to present again.
  // A closed connection removes itself before it is freed.
  std::vector<Connection*> dirty;
  std::vector<Connection*> replay;

  // Intrusive list of live connections (tick, abort, count).
  Connection* connections = nullptr;
  std::size_t connection_count = 0;

  // Bytes through every socket (Loop::traffic): one add per read()/send().
  Traffic traffic;
  // Iteration busy time, from three clock reads per iteration (libuv's own
  // UV_METRICS_IDLE_TIME would add an epoll_wait per iteration): the end of
  // the last iteration, just before poll (prepare), the first I/O callback
  // after it, and the end of this one (check).
  IterationStats iterations;
  uv_prepare_t prepare{};
  std::uint64_t last_check_ns = 0;
  std::uint64_t prepare_ns = 0;
  std::uint64_t io_ns = 0;  // 0: no I/O callback yet in this iteration
  void record_iteration() noexcept;
  static void on_prepare(uv_prepare_t* h) noexcept;

  // Global admission (Listener::on_incoming).
  AdmissionLimits admission;
  AdmissionRefusals refusals;
  core::TokenBucket connect_rate;  // max_connect_rate
  // Null when a new connection may be admitted now (takes a rate token);
  // else the limit's config key, with `count` its refusals so far.
  const char* admit(std::uint64_t& count) noexcept;

  // Caller-owned handles stop() must close (listeners, asyncs, timers).
  Closable* closables = nullptr;

  void add_closable(Closable* c) noexcept;
  void remove_closable(Closable* c) noexcept;

  // Listener and connector names, shared by their connections' info.
  std::deque<std::string> names;
  std::string_view intern(const std::string& name);
  // Water marks (high, low) per listener/connector, shared by their
  // connections, which keep only the index.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> water_marks;
  std::uint16_t intern_marks(std::uint32_t high, std::uint32_t low);

  void add_connection(Connection* c) noexcept;
  void remove_connection(Connection* c) noexcept;
  // Calls fn(c) for every live connection; fn must not unlink any (a closed
  // connection stays linked until the reaper finishes it).
  void for_each_connection(const std::function<void(Connection*)>& fn);
  void mark_dirty(Connection* c) noexcept;
  void mark_replay(Connection* c) noexcept;
  // Make sure the next poll does not block (check phase work is pending).
  void request_pass() noexcept;

  void schedule_close(Connection* c) noexcept;
  void update_epoll_ref() noexcept;

  static void on_check(uv_check_t* h) noexcept;
  static void on_epoll(uv_poll_t* h, int status, int events) noexcept;
  static void on_reap(uv_idle_t* h) noexcept;
  static void on_idle(uv_idle_t* h) noexcept;
  static void on_tick(uv_timer_t* h) noexcept;
};

}  // namespace detail
}  // namespace junction::net
