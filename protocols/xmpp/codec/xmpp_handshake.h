// XEP-0114 §3: the component proves it knows the shared secret by sending
// <handshake/> with the lowercase hex SHA-1 of the stream id (as the server
// sent it, XML-unescaped) concatenated with the secret.
#pragma once

#include <string>
#include <string_view>

namespace junction::xmpp {

std::string handshake_digest(std::string_view stream_id, std::string_view secret);

}  // namespace junction::xmpp
