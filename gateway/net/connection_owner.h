// junction::net::ConnectionOwner — what a Connection reports its life to.
// Separate from connection.h so public headers (listener.h, connector.h)
// need not include uv.h.
#pragma once

namespace junction::net {

class Connection;

// Who made a connection and wants to hear when it is gone: the Listener
// (counting) or the Connector (reconnecting).
class ConnectionOwner {
 public:
  // A connection was created (before accept/connect completes); every call
  // is matched by one connection_closed() later.
  virtual void connection_opened(Connection* c) noexcept = 0;
  // An outbound connection completed its TCP connect; its handler is about
  // to be created.
  virtual void connection_established(Connection*) noexcept {}
  // The connection is closed and about to be freed (its handler, if any,
  // got on_closed() already). `established`: it had connected (outbound) or
  // been accepted; false for an outbound attempt that never connected.
  virtual void connection_closed(Connection* c, bool established) noexcept = 0;

 protected:
  ~ConnectionOwner() = default;
};

}  // namespace junction::net
