// Session helpers: protocol version negotiation and heart-beat headers
// (STOMP 1.1 / 1.2 "Protocol Negotiation" and "Heart-beating").
#include <algorithm>

#include "stomp_internal.h"

namespace junction::stomp {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<Version> version_from_string(std::string_view s) {
  for (Version v : kAllVersions)
    if (version_string(v) == s) return v;
  return std::nullopt;
}

bool parse_u32(std::string_view s, std::uint32_t& out) {
  s = trim(s);
  if (s.empty() || s.size() > 10) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xFFFFFFFFu) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

}  // namespace

Status negotiate_version(std::optional<std::string_view> accept_version, std::span<const Version> supported,
                         Version& out) {
  auto supports = [&](Version v) { return std::find(supported.begin(), supported.end(), v) != supported.end(); };
  if (!accept_version) {
    // "If the accept-version header is missing, it means that the client
    // only supports version 1.0 of the protocol."
    if (!supports(Version::V1_0))
      return Status::error(Reason::UnsupportedVersion, "client without accept-version speaks only 1.0");
    out = Version::V1_0;
    return Status{};
  }
  // "the server will respond with the highest version of the protocol that
  // it has in common with the client"
  std::optional<Version> best;
  std::string_view rest = *accept_version;
  for (;;) {
    const std::size_t comma = rest.find(',');
    const std::optional<Version> v = version_from_string(trim(rest.substr(0, comma)));
    if (v && supports(*v) && (!best || *v > *best)) best = v;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!best) return Status::error(Reason::UnsupportedVersion, "no protocol version in common");
  out = *best;
  return Status{};
}

void append_versions(std::span<const Version> versions, std::string& out) {
  bool first = true;
  for (Version v : versions) {
    if (!first) out.push_back(',');
    out.append(version_string(v));
    first = false;
  }
}

Status parse_heart_beat(std::string_view value, HeartBeat& out) {
  const std::size_t comma = value.find(',');
  HeartBeat hb;
  if (comma == std::string_view::npos || !parse_u32(value.substr(0, comma), hb.cx) ||
      !parse_u32(value.substr(comma + 1), hb.cy))
    return Status::error(Reason::BadHeartBeat, "heart-beat is not \"<ms>,<ms>\"");
  out = hb;
  return Status{};
}

HeartBeatPlan negotiate_heart_beat(HeartBeat client, HeartBeat server) {
  HeartBeatPlan plan;
  if (server.cx != 0 && client.cy != 0) plan.send_ms = std::max(server.cx, client.cy);
  if (client.cx != 0 && server.cy != 0) plan.expect_ms = std::max(client.cx, server.cy);
  return plan;
}

}  // namespace junction::stomp
