// junction::xmpp::Element — a small XML tree for one stanza, and the
// serializer that writes it back with correct escaping.
//
// Text follows the ElementTree model: `text` is the character data before
// the first child, each child's `tail` the data after it. That keeps mixed
// content in order with no node variant.
//
// Names are namespace-resolved (the parser sees prefixes, the tree does
// not): `ns` is the namespace URI, `name` the local name. The serializer
// declares `xmlns` wherever an element's namespace differs from its
// parent's, so a subtree can be written into any stream.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace junction::xmpp {

inline constexpr std::string_view kNsXml = "http://www.w3.org/XML/1998/namespace";
inline constexpr std::string_view kNsStream = "http://etherx.jabber.org/streams";
inline constexpr std::string_view kNsComponent = "jabber:component:accept";

struct Attr {
  std::string ns;  // empty for unqualified attributes (nearly all)
  std::string name;
  std::string value;
};

struct Element {
  std::string ns;
  std::string name;
  std::vector<Attr> attrs;
  std::string text;
  std::string tail;
  std::vector<Element> children;

  Element() = default;
  Element(std::string_view ns_, std::string_view name_) : ns(ns_), name(name_) {}

  // Unqualified attribute value, or nullptr.
  const std::string* attr(std::string_view n) const;
  std::string_view attr_or(std::string_view n, std::string_view fallback = {}) const;
  Element& set(std::string_view n, std::string_view value);  // adds or replaces
  // First child with that name (and namespace, when given), or nullptr.
  const Element* child(std::string_view n, std::string_view ns_ = {}) const;
  Element* child(std::string_view n, std::string_view ns_ = {});
  Element& add(std::string_view ns_, std::string_view name_);
  Element& add(std::string_view name_) { return add(ns, name_); }  // same namespace as this
  // All character data of this element and its descendants, in order.
  std::string all_text() const;
};

// True if `s` is UTF-8 and every character is allowed in XML 1.0 (no C0
// controls except TAB, LF, CR; no U+FFFE/U+FFFF; no surrogates).
bool xml_text_ok(std::string_view s);

void escape_text(std::string_view s, std::string& out);  // & < >
void escape_attr(std::string_view s, std::string& out);  // & < > " '

// Writes `e` as XML. `parent_ns` is the default namespace in force where it
// is written (the stream's, for a stanza).
void serialize(const Element& e, std::string& out, std::string_view parent_ns);

}  // namespace junction::xmpp
