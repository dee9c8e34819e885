// The XML stream parser: a golden stream fed whole, byte by byte and split
// at every offset gives the same events; restricted XML and limits are
// rejected with the right stream error condition.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "xml_stream_parser.h"

using namespace junction::xmpp;

namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Events as one comparable string (stanzas re-serialized).
std::string describe(const std::vector<StreamEvent>& evs) {
  std::string out;
  for (const StreamEvent& e : evs) {
    switch (e.kind) {
      case EventKind::StreamOpen: out += "open id=" + std::string(e.element.attr_or("id")) + " from=" + std::string(e.element.attr_or("from")); break;
      case EventKind::Stanza: out += "stanza "; serialize(e.element, out, kNsComponent); break;
      case EventKind::StreamClose: out += "close"; break;
    }
    out += "\n";
  }
  return out;
}

struct Run {
  std::vector<StreamEvent> events;
  StreamStatus status;
};

Run feed_pieces(std::string_view input, std::vector<std::size_t> cuts, const StreamLimits& limits = {}) {
  StreamParser p(limits);
  Run r;
  std::size_t at = 0;
  cuts.push_back(input.size());
  for (std::size_t cut : cuts) {
    r.status = p.feed(bytes(input.substr(at, cut - at)), r.events);
    at = cut;
    if (!r.status.ok()) break;
  }
  return r;
}

const std::string kHeader =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='gw.localhost' id='abc&amp;123'>";

const std::string kGolden = kHeader +
    "<handshake/>"
    "<message from='u@localhost/r' to='t\\2fa@gw.localhost' xml:lang='en' type='chat'>"
    "<body>hi &amp; &lt;there&gt; \xC3\xA9\xE2\x82\xAC &#x1F600;</body>"
    "<x xmlns='urn:a'>t<b/>tail<c k=\"v'q\"/></x></message>   \n"
    "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"
    "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
    "</stream:stream>";

}  // namespace

TEST_CASE("golden stream: events and their content", "[xmpp][parser]") {
  Run r = feed_pieces(kGolden, {});
  REQUIRE(r.status.ok());
  REQUIRE(r.events.size() == 6);
  CHECK(r.events[0].kind == EventKind::StreamOpen);
  CHECK(r.events[0].element.attr_or("id") == "abc&123");
  CHECK(r.events[1].element.name == "handshake");
  CHECK(r.events[1].element.ns == kNsComponent);
  const Element& m = r.events[2].element;
  CHECK(m.name == "message");
  CHECK(m.attr_or("to") == "t\\2fa@gw.localhost");
  REQUIRE(m.attrs.size() == 4);
  CHECK(m.attrs[2].ns == kNsXml);
  CHECK(m.attrs[2].name == "lang");
  REQUIRE(m.child("body"));
  CHECK(m.child("body")->text == "hi & <there> \xC3\xA9\xE2\x82\xAC \xF0\x9F\x98\x80");
  const Element* x = m.child("x", "urn:a");
  REQUIRE(x);
  CHECK(x->text == "t");
  REQUIRE(x->children.size() == 2);
  CHECK(x->children[0].tail == "tail");
  CHECK(x->children[1].attr_or("k") == "v'q");
  CHECK(x->all_text() == "ttail");
  CHECK(r.events[3].element.child("ping", "urn:xmpp:ping"));
  CHECK(r.events[4].element.ns == kNsStream);
  CHECK(r.events[4].element.name == "error");
  CHECK(r.events[5].kind == EventKind::StreamClose);

  std::string out;
  serialize(m, out, kNsComponent);
  CHECK(out ==
        "<message from='u@localhost/r' to='t\\2fa@gw.localhost' xml:lang='en' type='chat'>"
        "<body>hi &amp; &lt;there&gt; \xC3\xA9\xE2\x82\xAC \xF0\x9F\x98\x80</body>"
        "<x xmlns='urn:a'>t<b/>tail<c k='v&apos;q'/></x></message>");
}

TEST_CASE("golden stream: the same events for every way of splitting it", "[xmpp][parser]") {
  const std::string whole = describe(feed_pieces(kGolden, {}).events);
  REQUIRE(!whole.empty());
  SECTION("byte by byte") {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < kGolden.size(); ++i) cuts.push_back(i);
    Run r = feed_pieces(kGolden, cuts);
    CHECK(r.status.ok());
    CHECK(describe(r.events) == whole);
  }
  SECTION("split at every offset") {
    for (std::size_t i = 0; i <= kGolden.size(); ++i) {
      Run r = feed_pieces(kGolden, {i});
      INFO("split at " << i);
      REQUIRE(r.status.ok());
      REQUIRE(describe(r.events) == whole);
    }
  }
}

TEST_CASE("serialized stanzas parse back to the same tree", "[xmpp][parser]") {
  Element m(kNsComponent, "message");
  m.set("to", "a@b").set("q", "\"'<>&\t\n\r");
  Element& j = m.add("urn:x", "j");
  j.text = "a\r\nb<&>]]>";
  j.add("k").tail = " after ";
  std::string s = kHeader;
  serialize(m, s, kNsComponent);
  Run r = feed_pieces(s, {});
  REQUIRE(r.status.ok());
  REQUIRE(r.events.size() == 2);
  const Element& back = r.events[1].element;
  CHECK(back.attr_or("q") == "\"'<>&\t\n\r");
  REQUIRE(back.child("j", "urn:x"));
  CHECK(back.child("j")->text == "a\r\nb<&>]]>");
  CHECK(back.child("j")->children.at(0).tail == " after ");
}

TEST_CASE("text XML cannot carry is detected and never written", "[xmpp][parser]") {
  CHECK(xml_text_ok("plain \xC3\xA9 text\t\n"));
  CHECK_FALSE(xml_text_ok(std::string("nul\0", 4)));
  CHECK_FALSE(xml_text_ok("\x01"));
  CHECK_FALSE(xml_text_ok("\xFF\xFE"));
  CHECK_FALSE(xml_text_ok("\xEF\xBF\xBF"));   // U+FFFF
  CHECK_FALSE(xml_text_ok("\xED\xA0\x80"));   // surrogate
  std::string out;
  escape_text("a\x01z", out);
  CHECK(out == "a\xEF\xBF\xBDz");
}

namespace {
StreamStatus reject(const std::string& body) {
  const StreamStatus whole = feed_pieces(body, {}).status;
  std::vector<std::size_t> cuts;
  for (std::size_t i = 7; i < body.size(); i += 7) cuts.push_back(i);
  CHECK(feed_pieces(body, cuts).status.kind == whole.kind);  // the same verdict in small pieces
  return whole;
}
}  // namespace

TEST_CASE("restricted XML is rejected", "[xmpp][parser][malformed]") {
  SECTION("billion laughs") {
    const std::string bomb =
        "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
        "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
        "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>]>"
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>&lol3;";
    StreamStatus st = reject(bomb);
    CHECK(st.kind == StreamErrorKind::RestrictedXml);
  }
  SECTION("external entity") {
    StreamStatus st = reject(
        "<?xml version='1.0'?><!DOCTYPE s [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><a>&x;</a>");
    CHECK(st.kind == StreamErrorKind::RestrictedXml);
  }
  SECTION("DOCTYPE alone") {
    CHECK(reject("<!DOCTYPE stream:stream><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>").kind ==
          StreamErrorKind::RestrictedXml);
  }
  SECTION("DOCTYPE inside the stream is not XML at all") {
    CHECK(reject(kHeader + "<!DOCTYPE x [<!ENTITY a 'b'>]>").kind != StreamErrorKind::None);
  }
  SECTION("comment") { CHECK(reject(kHeader + "<a><!-- hi --></a>").kind == StreamErrorKind::RestrictedXml); }
  SECTION("processing instruction") {
    CHECK(reject(kHeader + "<a><?pi data?></a>").kind == StreamErrorKind::RestrictedXml);
  }
  SECTION("undefined entity reference") {
    CHECK(reject(kHeader + "<a>&nbsp;</a>").kind == StreamErrorKind::NotWellFormed);
  }
  SECTION("mismatched tags") { CHECK(reject(kHeader + "<a></b>").kind == StreamErrorKind::NotWellFormed); }
  SECTION("bad UTF-8") { CHECK(reject(kHeader + "<a>\xC3\x28</a>").kind == StreamErrorKind::NotWellFormed); }
  SECTION("wrong root element") {
    CHECK(reject("<stream xmlns='jabber:client'>").kind == StreamErrorKind::InvalidNamespace);
  }
}

TEST_CASE("limits: depth, attributes, stanza size", "[xmpp][parser][limits]") {
  StreamLimits lim;
  lim.max_depth = 8;
  lim.max_attrs = 4;
  lim.max_stanza_bytes = 1000;
  auto nested = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "<a>";
    for (int i = 0; i < n; ++i) s += "</a>";
    return s;
  };
  CHECK(feed_pieces(kHeader + nested(8), {}, lim).status.ok());
  StreamStatus deep = feed_pieces(kHeader + nested(9), {}, lim).status;
  CHECK(deep.kind == StreamErrorKind::PolicyViolation);
  CHECK(deep.what == "elements nested too deep");

  CHECK(feed_pieces(kHeader + "<a b='1' c='2' d='3' e='4'/>", {}, lim).status.ok());
  StreamStatus attrs = feed_pieces(kHeader + "<a b='1' c='2' d='3' e='4' f='5'/>", {}, lim).status;
  CHECK(attrs.kind == StreamErrorKind::PolicyViolation);

  const std::string ok_stanza = "<a>" + std::string(900, 'x') + "</a>";
  Run ok = feed_pieces(kHeader + ok_stanza + ok_stanza + ok_stanza, {}, lim);
  CHECK(ok.status.ok());
  CHECK(ok.events.size() == 4);
  StreamStatus big = feed_pieces(kHeader + "<a>" + std::string(2000, 'x') + "</a>", {}, lim).status;
  CHECK(big.kind == StreamErrorKind::PolicyViolation);
  // An endless start tag never completes, so no callback runs: the check
  // between slices stops it before expat buffers much more than the limit.
  StreamParser p(lim);
  std::vector<StreamEvent> evs;
  CHECK(p.feed(bytes(kHeader), evs).ok());
  const std::string junk = "<a " + std::string(64 * 1024, 'b');
  CHECK(p.feed(bytes(junk), evs).kind == StreamErrorKind::PolicyViolation);
  // Stays failed.
  CHECK(p.feed(bytes("<x/>"), evs).kind == StreamErrorKind::PolicyViolation);
}
