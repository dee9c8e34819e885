// Field tables and values (RabbitMQ's 0-9-1 errata type set).
#include <cstring>

#include "amqp_codec.h"
#include "amqp_wire.h"

namespace junction::amqp {

namespace {
double bits_to_double(std::uint64_t b) { double d; std::memcpy(&d, &b, 8); return d; }
float bits_to_float(std::uint32_t b) { float f; std::memcpy(&f, &b, 4); return f; }
std::uint64_t double_bits(double d) { std::uint64_t b; std::memcpy(&b, &d, 8); return b; }
std::uint32_t float_bits(float f) { std::uint32_t b; std::memcpy(&b, &f, 4); return b; }
}  // namespace

bool FieldValue::operator==(const FieldValue& o) const {
  if (type != o.type) return false;
  switch (type) {
    case 't': case 'b': case 's': case 'I': case 'l': return i == o.i;
    case 'B': case 'u': case 'i': case 'T': return u == o.u;
    // Compare bit patterns so NaN round-trips compare equal.
    case 'f': return float_bits(static_cast<float>(d)) == float_bits(static_cast<float>(o.d));
    case 'd': return double_bits(d) == double_bits(o.d);
    case 'D': return dec == o.dec;
    case 'S': case 'x': return s == o.s;
    case 'A': return array == o.array;
    case 'F': return table == o.table;
    default: return true;
  }
}

std::string FieldValue::to_text() const {
  switch (type) {
    case 't': return i ? "true" : "false";
    case 'b': case 's': case 'I': case 'l': return std::to_string(i);
    case 'B': case 'u': case 'i': case 'T': return std::to_string(u);
    case 'f': case 'd': return std::to_string(d);
    case 'S': case 'x': return s;
    default: return {};
  }
}

const FieldValue* find_field(const FieldTable& t, std::string_view name) {
  for (const Field& f : t)
    if (f.name == name) return &f.value;
  return nullptr;
}

namespace detail {

void Reader::table(FieldTable& t, int depth) {
  t.clear();
  if (depth > kMaxFieldDepth) { fail(Error::TooDeep); return; }
  const std::size_t size = be(4);
  if (!need(size)) return;
  const std::size_t end = off_ + size;
  // Parse the table's octets as their own span so a bad entry cannot read past the table.
  Reader sub(in_.subspan(off_, size));
  while (sub.ok() && !sub.at_end()) {
    Field f;
    sub.shortstr(f.name);
    sub.value(f.value, depth);
    if (sub.ok()) t.push_back(std::move(f));
  }
  if (!sub.ok()) { fail(sub.error()); return; }
  off_ = end;
}

void Reader::value(FieldValue& v, int depth) {
  std::uint8_t type = 0;
  u8(type);
  if (!ok()) return;
  v.type = static_cast<char>(type);
  switch (v.type) {
    case 't': v.i = be(1) != 0; break;
    case 'b': v.i = static_cast<std::int8_t>(be(1)); break;
    case 'B': v.u = be(1); break;
    case 's': v.i = static_cast<std::int16_t>(be(2)); break;
    case 'u': v.u = be(2); break;
    case 'I': v.i = static_cast<std::int32_t>(be(4)); break;
    case 'i': v.u = be(4); break;
    case 'l': v.i = static_cast<std::int64_t>(be(8)); break;
    case 'f': v.d = bits_to_float(static_cast<std::uint32_t>(be(4))); break;
    case 'd': v.d = bits_to_double(be(8)); break;
    case 'D': v.dec.scale = static_cast<std::uint8_t>(be(1)); v.dec.value = static_cast<std::uint32_t>(be(4)); break;
    case 'S': case 'x': longstr(v.s); break;
    case 'T': v.u = be(8); break;
    case 'V': break;
    case 'F': table(v.table, depth + 1); break;
    case 'A': {
      if (depth + 1 > kMaxFieldDepth) { fail(Error::TooDeep); return; }
      const std::size_t size = be(4);
      if (!need(size)) return;
      Reader sub(in_.subspan(off_, size));
      while (sub.ok() && !sub.at_end()) {
        FieldValue e;
        sub.value(e, depth + 1);
        if (sub.ok()) v.array.push_back(std::move(e));
      }
      if (!sub.ok()) { fail(sub.error()); return; }
      off_ += size;
      break;
    }
    default: fail(Error::BadFieldType); break;
  }
}

void Writer::table(const FieldTable& t) {
  end_bits();
  const std::size_t at = out_.size();
  out_.append(4, '\0');
  for (const Field& f : t) {
    shortstr(f.name);
    value(f.value);
  }
  const std::uint32_t n = static_cast<std::uint32_t>(out_.size() - at - 4);
  for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<char>((n >> (8 * (3 - i))) & 0xFF);
}

void Writer::value(const FieldValue& v) {
  u8(static_cast<std::uint8_t>(v.type));
  switch (v.type) {
    case 't': be(v.i ? 1 : 0, 1); break;
    case 'b': be(static_cast<std::uint8_t>(v.i), 1); break;
    case 'B': be(v.u, 1); break;
    case 's': be(static_cast<std::uint16_t>(v.i), 2); break;
    case 'u': be(v.u, 2); break;
    case 'I': be(static_cast<std::uint32_t>(v.i), 4); break;
    case 'i': be(v.u, 4); break;
    case 'l': be(static_cast<std::uint64_t>(v.i), 8); break;
    case 'f': be(float_bits(static_cast<float>(v.d)), 4); break;
    case 'd': be(double_bits(v.d), 8); break;
    case 'D': be(v.dec.scale, 1); be(v.dec.value, 4); break;
    case 'S': case 'x': longstr(v.s); break;
    case 'T': be(v.u, 8); break;
    case 'V': break;
    case 'F': table(v.table); break;
    case 'A': {
      const std::size_t at = out_.size();
      out_.append(4, '\0');
      for (const FieldValue& e : v.array) value(e);
      const std::uint32_t n = static_cast<std::uint32_t>(out_.size() - at - 4);
      for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<char>((n >> (8 * (3 - i))) & 0xFF);
      break;
    }
    default: fail(Error::BadFieldType); break;
  }
}

}  // namespace detail

Error decode_table(ByteSpan in, FieldTable& out, std::size_t& used) {
  detail::Reader r(in);
  r.table(out);
  used = r.offset();
  return r.error();
}

Error encode_table(const FieldTable& t, std::string& out) {
  std::string tmp;
  detail::Writer w(tmp);
  w.table(t);
  if (w.error() != Error::None) return w.error();
  out.append(tmp);
  return Error::None;
}

}  // namespace junction::amqp
