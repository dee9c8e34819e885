// Internal: big-endian readers/writers shared by the codec's files.
#pragma once

#include <cstring>

#include "amqp_codec.h"

namespace junction::amqp::detail {

class Reader {
 public:
  explicit Reader(ByteSpan in) : in_(in) {}
  Error error() const { return err_; }
  bool ok() const { return err_ == Error::None; }
  std::size_t offset() const { return off_; }
  bool at_end() const { return off_ == in_.size(); }
  void fail(Error e) { if (err_ == Error::None) err_ = e; }

  bool need(std::size_t n) {
    bits_left_ = 0;
    if (!ok()) return false;
    if (in_.size() - off_ < n) { fail(Error::Truncated); return false; }
    return true;
  }
  std::uint64_t be(std::size_t n) {
    if (!need(n)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | in_[off_ + i];
    off_ += n;
    return v;
  }
  void u8(std::uint8_t& v) { v = static_cast<std::uint8_t>(be(1)); }
  void u16(std::uint16_t& v) { v = static_cast<std::uint16_t>(be(2)); }
  void u32(std::uint32_t& v) { v = static_cast<std::uint32_t>(be(4)); }
  void u64(std::uint64_t& v) { v = be(8); }
  void bytes(std::size_t n, std::string& s) {
    if (!need(n)) return;
    s.assign(reinterpret_cast<const char*>(in_.data() + off_), n);
    off_ += n;
  }
  void shortstr(std::string& s) { std::size_t n = be(1); bytes(n, s); }
  void longstr(std::string& s) { std::size_t n = be(4); bytes(n, s); }
  // Consecutive bits share one octet, least significant bit first.
  void bit(bool& b) {
    if (bits_left_ == 0) {
      std::uint8_t o = 0;
      u8(o);
      if (!ok()) return;
      bit_octet_ = o;
      bits_left_ = 8;
    }
    b = (bit_octet_ >> (8 - bits_left_)) & 1;
    --bits_left_;
  }
  void table(FieldTable& t, int depth = 0);
  void value(FieldValue& v, int depth);

 private:
  ByteSpan in_;
  std::size_t off_ = 0;
  Error err_ = Error::None;
  std::uint8_t bit_octet_ = 0;
  int bits_left_ = 0;
};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  Error error() const { return err_; }
  void fail(Error e) { if (err_ == Error::None) err_ = e; }
  void be(std::uint64_t v, std::size_t n) {
    end_bits();
    for (std::size_t i = n; i-- > 0;) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  void u8(std::uint8_t v) { be(v, 1); }
  void u16(std::uint16_t v) { be(v, 2); }
  void u32(std::uint32_t v) { be(v, 4); }
  void u64(std::uint64_t v) { be(v, 8); }
  void shortstr(std::string_view s) {
    if (s.size() > 255) { fail(Error::StringTooLong); return; }
    be(s.size(), 1);
    out_.append(s);
  }
  void longstr(std::string_view s) { be(s.size(), 4); out_.append(s); }
  void bit(bool b) {
    if (bit_pos_ == 0 || bit_pos_ == 8) { out_.push_back(0); bit_pos_ = 0; }
    if (b) out_.back() = static_cast<char>(static_cast<std::uint8_t>(out_.back()) | (1u << bit_pos_));
    ++bit_pos_;
  }
  void end_bits() { bit_pos_ = 0; }
  void table(const FieldTable& t);
  void value(const FieldValue& v);
  std::string& out() { return out_; }

 private:
  std::string& out_;
  Error err_ = Error::None;
  int bit_pos_ = 0;
};

// Adapters so one visit() serves both directions.
struct DecodeVisitor {
  Reader& r;
  void u8(std::uint8_t& v) { r.u8(v); }
  void u16(std::uint16_t& v) { r.u16(v); }
  void u32(std::uint32_t& v) { r.u32(v); }
  void u64(std::uint64_t& v) { r.u64(v); }
  void shortstr(std::string& s) { r.shortstr(s); }
  void longstr(std::string& s) { r.longstr(s); }
  void bit(bool& b) { r.bit(b); }
  void table(FieldTable& t) { r.table(t); }
};

struct EncodeVisitor {
  Writer& w;
  void u8(std::uint8_t v) { w.u8(v); }
  void u16(std::uint16_t v) { w.u16(v); }
  void u32(std::uint32_t v) { w.u32(v); }
  void u64(std::uint64_t v) { w.u64(v); }
  void shortstr(const std::string& s) { w.shortstr(s); }
  void longstr(const std::string& s) { w.longstr(s); }
  void bit(bool b) { w.bit(b); }
  void table(const FieldTable& t) { w.table(t); }
};

// Writes the 7-octet frame header with a zero size, returns where the payload starts.
inline std::size_t begin_frame(std::string& out, FrameType t, std::uint16_t channel) {
  out.push_back(static_cast<char>(t));
  out.push_back(static_cast<char>(channel >> 8));
  out.push_back(static_cast<char>(channel & 0xFF));
  out.append(4, '\0');
  return out.size();
}
// Patches the size and appends the frame-end octet.
inline void end_frame(std::string& out, std::size_t payload_start) {
  const std::uint32_t n = static_cast<std::uint32_t>(out.size() - payload_start);
  for (int i = 0; i < 4; ++i) out[payload_start - 4 + i] = static_cast<char>((n >> (8 * (3 - i))) & 0xFF);
  out.push_back(static_cast<char>(kFrameEnd));
}

}  // namespace junction::amqp::detail
