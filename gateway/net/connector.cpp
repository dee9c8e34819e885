#include "connector.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>

#include "connection.h"
#include "log.h"
#include "loop_impl.h"

namespace junction::net {

// The retry/timeout timer. Heap-allocated so its close callback can run
// after the Connector is gone.
struct Connector::State {
  uv_timer_t timer{};
  Connector* owner = nullptr;
};

// One name resolution in flight; abandoned (owner = nullptr) on timeout or
// stop, then freed by its own callback.
struct Connector::Resolve {
  uv_getaddrinfo_t req{};
  Connector* owner = nullptr;
};

namespace {

std::string where(const Endpoint& e) {
  bool v6 = e.host.find(':') != std::string::npos;
  return (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

std::uint64_t next_random(std::uint64_t& s) {  // xorshift64*: jitter only
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1DULL;
}

}  // namespace

Connector::Connector(Loop& loop, ConnectorSpec spec, core::ProtocolFactory& factory)
    : loop_(loop), spec_(std::move(spec)), factory_(factory) {
  if (spec_.endpoints.empty()) throw std::invalid_argument("connector '" + spec_.name + "': no endpoint");
  if (spec_.name.empty()) spec_.name = std::string(factory.protocol_name()) + " " + where(spec_.endpoints[0]);
  spec_.min_backoff_ms = std::max<std::uint32_t>(spec_.min_backoff_ms, 1);
  spec_.max_backoff_ms = std::max(spec_.max_backoff_ms, spec_.min_backoff_ms);
  rng_ = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) |
         reinterpret_cast<std::uintptr_t>(this) | 1;
  detail::LoopImpl& d = loop.impl();
  state_ = new State;
  state_->owner = this;
  state_->timer.data = state_;
  uv_timer_init(&d.uv, &state_->timer);
  d.add_closable(this);
}

Connector::~Connector() { close(); }

bool Connector::connected() const noexcept { return phase_ == Phase::Connected; }

bool Connector::idle() const noexcept { return phase_ == Phase::Idle; }

void Connector::start() {
  if (state_ == nullptr) return;  // closed with the loop
  running_ = true;
  if (phase_ == Phase::Idle) attempt();
}

void Connector::stop() noexcept {
  running_ = false;
  pending_backoff_ms_ = 0;
  if (state_ != nullptr) uv_timer_stop(&state_->timer);
  switch (phase_) {
    case Phase::Resolving:
      abandon_resolve();
      phase_ = Phase::Idle;
      break;
    case Phase::Connecting:
    case Phase::Connected:
      // connection_closed() sets Idle once the close completes.
      if (connection_ != nullptr) connection_->abort();
      break;
    case Phase::Waiting: phase_ = Phase::Idle; break;
    case Phase::Idle: break;
  }
}

void Connector::close() noexcept {
  if (state_ == nullptr) return;
  stop();
  // The connection may close after we are gone: it must not report back.
  if (connection_ != nullptr) {
    connection_->detach_owner();
    connection_ = nullptr;
  }
  phase_ = Phase::Idle;
  loop_.impl().remove_closable(this);
  state_->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&state_->timer),
           [](uv_handle_t* h) noexcept { delete static_cast<State*>(h->data); });
  state_ = nullptr;
}

void Connector::attempt() noexcept {
  if (!running_ || state_ == nullptr) return;
  ++attempts_;
  pending_backoff_ms_ = 0;
  phase_ = Phase::Resolving;
  uv_timer_start(
      &state_->timer,
      [](uv_timer_t* t) noexcept {
        auto* st = static_cast<State*>(t->data);
        if (st->owner != nullptr) st->owner->timer_fired();
      },
      spec_.connect_timeout_ms, 0);
  const Endpoint& e = endpoint();
  auto* r = new (std::nothrow) Resolve;
  if (r == nullptr) {
    failed("out of memory");
    return;
  }
  r->owner = this;
  r->req.data = r;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  std::string port = std::to_string(e.port);
  int rc = uv_getaddrinfo(
      &loop_.impl().uv, &r->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) noexcept {
        auto* rs = static_cast<Resolve*>(req->data);
        if (Connector* owner = rs->owner) {
          owner->resolving_ = nullptr;
          owner->resolved(status, res);
        }
        uv_freeaddrinfo(res);
        delete rs;
      },
      e.host.c_str(), port.c_str(), &hints);
  if (rc == 0) {
    resolving_ = r;
  } else {
    delete r;
    failed(std::string("cannot resolve ") + e.host + ": " + uv_strerror(rc));
  }
}

void Connector::resolved(int status, const addrinfo* res) noexcept {
  if (status != 0 || res == nullptr) {
    failed("cannot resolve " + endpoint().host + ": " + uv_strerror(status));
    return;
  }
  phase_ = Phase::Connecting;
  Connection::WaterMarks marks{spec_.high_water, spec_.low_water};
  const std::string& server_name = spec_.server_name.empty() ? endpoint().host : spec_.server_name;
  int err = 0;
  Connection* c = Connection::connect(loop_.impl(), res->ai_addr, this, spec_.name, marks, factory_,
                                      spec_.transport, server_name, &err);
  if (c == nullptr) failed("cannot connect to " + where(endpoint()) + ": " + uv_strerror(err));
  // Otherwise connection_opened() has recorded it; the rest comes from
  // connection_established() / connection_closed().
}

void Connector::connection_opened(Connection* c) noexcept { connection_ = c; }

const std::string& Connector::last_error() const noexcept {
  static const std::string none;
  return connection_ != nullptr && connection_->handler_ready() ? none : last_error_;
}

void Connector::connection_established(Connection*) noexcept {
  if (state_ != nullptr) uv_timer_stop(&state_->timer);
  phase_ = Phase::Connected;
  ++connects_;
  connected_at_ms_ = loop_.now_ms();
  // With TLS the handshake may still fail: the last error stands until
  // the handler exists (see last_error()), so repeats stay at debug.
  if (spec_.transport == nullptr) last_error_.clear();
  log::notice("%s: connected to %s", spec_.name.c_str(), where(endpoint()).c_str());
}

void Connector::connection_closed(Connection* c, bool established) noexcept {
  if (c != connection_) return;
  connection_ = nullptr;
  std::string why = c->error() != 0 ? uv_strerror(c->error()) : "closed";
  if (established && !c->handler_ready()) {
    // TCP was up but the TLS handshake was not: as good as refused.
    std::string layer = c->layer_error();
    note_error("cannot connect to " + where(endpoint()) + ": " +
               (layer.empty() ? "TLS handshake did not complete (" + why + ")" : layer));
    established = false;
  } else if (established) {
    log::notice("%s: connection to %s ended (%s)", spec_.name.c_str(), where(endpoint()).c_str(), why.c_str());
    if (loop_.now_ms() - connected_at_ms_ >= static_cast<std::int64_t>(spec_.healthy_after_ms)) failures_ = 0;
    last_error_ = "connection ended: " + why;
  } else if (running_ && last_error_ != "connect timeout") {
    note_error("cannot connect to " + where(endpoint()) + ": " + why);
  }
  if (!running_ || state_ == nullptr) {
    phase_ = Phase::Idle;
    return;
  }
  if (!established) index_ = (index_ + 1) % spec_.endpoints.size();
  schedule_retry();
}

void Connector::failed(const std::string& why) noexcept {
  note_error(why);
  index_ = (index_ + 1) % spec_.endpoints.size();
  if (!running_ || state_ == nullptr) {
    phase_ = Phase::Idle;
    return;
  }
  schedule_retry();
}

void Connector::schedule_retry() noexcept {
  std::uint64_t d = spec_.min_backoff_ms;
  for (std::uint32_t i = 0; i < failures_ && d < spec_.max_backoff_ms; ++i) d *= 2;
  d = std::min<std::uint64_t>(d, spec_.max_backoff_ms);
  std::uint64_t delay = d / 2 + next_random(rng_) % (d / 2 + 1);
  if (failures_ < 64) ++failures_;
  phase_ = Phase::Waiting;
  pending_backoff_ms_ = delay;
  log::debug("%s: next attempt in %llu ms", spec_.name.c_str(), static_cast<unsigned long long>(delay));
  uv_timer_start(
      &state_->timer,
      [](uv_timer_t* t) noexcept {
        auto* st = static_cast<State*>(t->data);
        if (st->owner != nullptr) st->owner->timer_fired();
      },
      delay, 0);
}

void Connector::timer_fired() noexcept {
  switch (phase_) {
    case Phase::Waiting: attempt(); break;
    case Phase::Resolving:
      abandon_resolve();
      failed("timed out resolving " + endpoint().host);
      break;
    case Phase::Connecting:
      note_error("connect timeout");
      if (connection_ != nullptr) connection_->abort();  // retry from connection_closed()
      break;
    case Phase::Connected:
    case Phase::Idle: break;
  }
}

void Connector::abandon_resolve() noexcept {
  if (resolving_ == nullptr) return;
  resolving_->owner = nullptr;
  (void)uv_cancel(reinterpret_cast<uv_req_t*>(&resolving_->req));  // fails if already running: fine
  resolving_ = nullptr;
}

void Connector::note_error(const std::string& why) noexcept {
  // A server that stays down should not fill the log: say each new reason
  // once, repeats at debug.
  log::Level level = why == last_error_ ? log::Level::debug : log::Level::info;
  log::write(level, "%s: %s", spec_.name.c_str(), why.c_str());
  last_error_ = why;
}

}  // namespace junction::net
