#include "stomp_protocol.h"

#include <cstdio>
#include <random>

#include "stomp_connection.h"

namespace junction::stomp {

StompProtocol::StompProtocol(core::Broker& broker, const StompOptions& options)
    : broker_(broker), options_(options) {
  // Random per listener and per run: two listeners, or a restart after a
  // crash that left temporary queues in the store, never hand out the same id.
  std::random_device rd;
  const std::uint64_t r = (std::uint64_t(rd()) << 32) ^ rd();
  char buf[32];
  std::snprintf(buf, sizeof buf, "stomp-%012llx-", static_cast<unsigned long long>(r & 0xFFFFFFFFFFFFull));
  id_prefix_ = buf;
}

StompProtocol::~StompProtocol() = default;

std::unique_ptr<core::ProtocolHandler> StompProtocol::create(core::ConnectionSink& sink) {
  return std::make_unique<StompConnection>(*this, sink);
}

std::string StompProtocol::next_client_id() { return id_prefix_ + std::to_string(next_id_++); }

void StompProtocol::add(StompConnection* c) {
  c->prev_ = nullptr;
  c->next_ = head_;
  if (head_) head_->prev_ = c;
  head_ = c;
}

void StompProtocol::remove(StompConnection* c) {
  if (c->prev_) {
    c->prev_->next_ = c->next_;
  } else if (head_ == c) {
    head_ = c->next_;
  }
  if (c->next_) c->next_->prev_ = c->prev_;
  c->prev_ = c->next_ = nullptr;
}

void StompProtocol::shutdown() {
  for (StompConnection* c = head_; c;) {
    StompConnection* next = c->next_;
    c->shutdown();
    c = next;
  }
}

}  // namespace junction::stomp
