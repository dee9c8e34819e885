// Version negotiation (1.1 / 1.2 "Protocol Negotiation") and heart-beat
// headers ("Heart-beating").
#include <catch2/catch.hpp>

#include "stomp_testkit.h"

using namespace stomp_testkit;

TEST_CASE("negotiate_version picks the highest common version", "[stomp][codec]") {
  struct Case {
    std::optional<std::string_view> accept;
    std::vector<Version> supported;
    std::optional<Version> want;  // nullopt: UnsupportedVersion
  };
  const std::vector<Version> all(std::begin(kAllVersions), std::end(kAllVersions));
  const Case cases[] = {
      {std::nullopt, all, Version::V1_0},  // no header: 1.0 only
      {"1.0", all, Version::V1_0},
      {"1.1", all, Version::V1_1},
      {"1.2", all, Version::V1_2},
      {"1.0,1.1,1.2", all, Version::V1_2},
      {"1.2,1.0", all, Version::V1_2},  // order does not matter
      {"1.0,1.1,2.0", all, Version::V1_1},  // spec example: unknown 2.0 skipped
      {" 1.0 , 1.1 ", all, Version::V1_1},
      {"1.0,1.1,1.2", {Version::V1_0, Version::V1_1}, Version::V1_1},
      {"1.2", {Version::V1_0, Version::V1_1}, std::nullopt},
      {"2.0,3.1", all, std::nullopt},
      {"", all, std::nullopt},
      {"1.2.0", all, std::nullopt},
      {",,", all, std::nullopt},
      {std::nullopt, {Version::V1_1, Version::V1_2}, std::nullopt},  // 1.0-only client, 1.0 disabled
  };
  for (const Case& c : cases) {
    CAPTURE(c.accept.value_or("<absent>"));
    Version v = Version::V1_2;
    const Status st = negotiate_version(c.accept, c.supported, v);
    if (c.want) {
      REQUIRE(st.ok());
      CHECK(v == *c.want);
    } else {
      CHECK(st.reason == Reason::UnsupportedVersion);
      CHECK(st.what != nullptr);
    }
  }
}

TEST_CASE("append_versions lists versions for the ERROR frame's version header", "[stomp][codec]") {
  std::string out;
  append_versions(kAllVersions, out);
  CHECK(out == "1.0,1.1,1.2");
  out.clear();
  const Version two[] = {Version::V1_1, Version::V1_2};
  append_versions(two, out);
  CHECK(out == "1.1,1.2");
  CHECK(version_string(Version::V1_0) == "1.0");
}

TEST_CASE("parse_heart_beat reads <cx>,<cy>", "[stomp][codec]") {
  HeartBeat hb;
  REQUIRE(parse_heart_beat("0,0", hb).ok());
  CHECK(hb == HeartBeat{0, 0});
  REQUIRE(parse_heart_beat("100,2000", hb).ok());
  CHECK(hb == HeartBeat{100, 2000});
  REQUIRE(parse_heart_beat(" 10 , 20 ", hb).ok());
  CHECK(hb == HeartBeat{10, 20});
  REQUIRE(parse_heart_beat("4294967295,0", hb).ok());
  CHECK(hb.cx == 4294967295u);

  for (std::string_view bad : {"", ",", "1", "1,", ",1", "a,b", "1,2,3", "-1,0", "1.5,0", "4294967296,0",
                               "99999999999,0", "+1,0", "1;2"}) {
    CAPTURE(bad);
    HeartBeat keep{7, 7};
    const Status st = parse_heart_beat(bad, keep);
    CHECK(st.reason == Reason::BadHeartBeat);
    CHECK(keep == HeartBeat{7, 7});  // untouched on error
  }
}

TEST_CASE("negotiate_heart_beat follows the spec's MAX rule with 0 meaning none", "[stomp][codec]") {
  // Client "heart-beat:cx,cy", server "heart-beat:sx,sy":
  //   server -> client every MAX(sx, cy) unless either is 0;
  //   client -> server every MAX(cx, sy) unless either is 0.
  CHECK(negotiate_heart_beat({0, 0}, {10000, 10000}) == HeartBeatPlan{0, 0});
  CHECK(negotiate_heart_beat({4000, 0}, {10000, 10000}) == HeartBeatPlan{0, 10000});
  CHECK(negotiate_heart_beat({0, 4000}, {10000, 10000}) == HeartBeatPlan{10000, 0});
  CHECK(negotiate_heart_beat({20000, 30000}, {10000, 10000}) == HeartBeatPlan{30000, 20000});
  CHECK(negotiate_heart_beat({1000, 1000}, {0, 0}) == HeartBeatPlan{0, 0});
  CHECK(negotiate_heart_beat({1000, 1000}, {5000, 0}) == HeartBeatPlan{5000, 0});
}
