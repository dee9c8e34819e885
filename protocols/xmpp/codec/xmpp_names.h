// Names between the core and XMPP: topic <-> JID localpart, topic <-> PubSub
// node name, and JID parsing. Pure functions.
//
// Escaping (lossless: decode(encode(t)) == t for every topic):
//  * A byte is written as `\` + two lowercase hex digits. For the ten
//    characters of XEP-0106 (space " & ' / : < > @ \) this is exactly the
//    XEP-0106 escape (`/` -> `\2f`), so `sensors/room1` is the localpart
//    `sensors\2froom1`.
//  * Localparts also escape what XEP-0106 leaves alone but servers would
//    change or refuse: ASCII upper case (servers case-fold localparts:
//    `A` -> `\41`), control characters and DEL, and every non-ASCII byte
//    (case folding and normalization of Unicode would otherwise alter it).
//    Allowed as they are: a-z 0-9 and the other printable ASCII characters.
//  * Node names may hold any XML text, so only `\`, control characters and
//    DEL are escaped; `a/+/#` is the node `a/+/#`.
//  * Decoding turns every `\` followed by two hex digits (either case) into
//    that byte; any other `\` stays as it is.
#pragma once

#include <string>
#include <string_view>

namespace junction::xmpp {

std::string topic_to_localpart(std::string_view topic);
std::string topic_to_node(std::string_view topic);
// Both directions share the decoder.
std::string unescape_name(std::string_view name);
inline std::string localpart_to_topic(std::string_view local) { return unescape_name(local); }
inline std::string node_to_topic(std::string_view node) { return unescape_name(node); }

// user@domain/resource. Only the split: no stringprep (the server has done
// it for everything that reaches a component).
struct Jid {
  std::string_view local;
  std::string_view domain;
  std::string_view resource;
  bool has_resource = false;
};
bool parse_jid(std::string_view s, Jid& out);  // false: empty domain or malformed
std::string_view bare_jid(std::string_view s);  // without "/resource"

}  // namespace junction::xmpp
