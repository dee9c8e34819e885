#include "xml_element.h"

#include <cstdint>

namespace junction::xmpp {

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length, 0 if invalid.
std::size_t utf8_next(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len;
  std::uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool xml_char(std::uint32_t cp) {
  if (cp < 0x20) return cp == 0x9 || cp == 0xA || cp == 0xD;
  return cp != 0xFFFE && cp != 0xFFFF;
}

// Escapes `s`; characters XML cannot carry become U+FFFD so that a bug
// upstream can never make the server kill the stream for bad XML.
template <bool Attribute>
void escape(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = utf8_next(s, i, cp);
    if (n == 0 || !xml_char(cp)) {
      out.append("\xEF\xBF\xBD");
      i += n == 0 ? 1 : n;
      continue;
    }
    switch (s[i]) {
      case '&': out.append("&amp;"); break;
      case '<': out.append("&lt;"); break;
      case '>': out.append("&gt;"); break;
      case '"':
        if (Attribute) {
          out.append("&quot;");
        } else {
          out.push_back('"');
        }
        break;
      case '\'':
        if (Attribute) {
          out.append("&apos;");
        } else {
          out.push_back('\'');
        }
        break;
      case '\r': out.append("&#13;"); break;  // a raw CR would be normalized to LF
      case '\n':
        if (Attribute) {
          out.append("&#10;");  // attribute value normalization would make it a space
        } else {
          out.push_back('\n');
        }
        break;
      case '\t':
        if (Attribute) {
          out.append("&#9;");
        } else {
          out.push_back('\t');
        }
        break;
      default: out.append(s.substr(i, n)); break;
    }
    i += n;
  }
}

}  // namespace

const std::string* Element::attr(std::string_view n) const {
  for (const Attr& a : attrs)
    if (a.ns.empty() && a.name == n) return &a.value;
  return nullptr;
}

std::string_view Element::attr_or(std::string_view n, std::string_view fallback) const {
  const std::string* v = attr(n);
  return v ? std::string_view(*v) : fallback;
}

Element& Element::set(std::string_view n, std::string_view value) {
  for (Attr& a : attrs) {
    if (a.ns.empty() && a.name == n) {
      a.value.assign(value);
      return *this;
    }
  }
  attrs.push_back(Attr{{}, std::string(n), std::string(value)});
  return *this;
}

const Element* Element::child(std::string_view n, std::string_view ns_) const {
  for (const Element& c : children)
    if (c.name == n && (ns_.empty() || c.ns == ns_)) return &c;
  return nullptr;
}

Element* Element::child(std::string_view n, std::string_view ns_) {
  return const_cast<Element*>(static_cast<const Element*>(this)->child(n, ns_));
}

Element& Element::add(std::string_view ns_, std::string_view name_) {
  children.emplace_back(ns_, name_);
  return children.back();
}

std::string Element::all_text() const {
  std::string out = text;
  for (const Element& c : children) {
    out.append(c.all_text());
    out.append(c.tail);
  }
  return out;
}

bool xml_text_ok(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t n = utf8_next(s, i, cp);
    if (n == 0 || !xml_char(cp)) return false;
    i += n;
  }
  return true;
}

void escape_text(std::string_view s, std::string& out) { escape<false>(s, out); }
void escape_attr(std::string_view s, std::string& out) { escape<true>(s, out); }

void serialize(const Element& e, std::string& out, std::string_view parent_ns) {
  out.push_back('<');
  out.append(e.name);
  if (e.ns != parent_ns) {
    out.append(" xmlns='");
    escape_attr(e.ns, out);
    out.push_back('\'');
  }
  int prefix = 0;
  for (const Attr& a : e.attrs) {
    out.push_back(' ');
    if (a.ns == kNsXml) {
      out.append("xml:");
    } else if (!a.ns.empty()) {
      // Rare (namespaced attributes in a foreign payload): declare a prefix here.
      const std::string p = "a" + std::to_string(prefix++);
      out.append("xmlns:").append(p).append("='");
      escape_attr(a.ns, out);
      out.append("' ").append(p).push_back(':');
    }
    out.append(a.name).append("='");
    escape_attr(a.value, out);
    out.push_back('\'');
  }
  if (e.text.empty() && e.children.empty()) {
    out.append("/>");
  } else {
    out.push_back('>');
    escape_text(e.text, out);
    for (const Element& c : e.children) {
      serialize(c, out, e.ns);
      escape_text(c.tail, out);
    }
    out.append("</").append(e.name).push_back('>');
  }
}

}  // namespace junction::xmpp
