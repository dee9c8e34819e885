#include "api_common.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "base64.h"
#include "utf8.h"

namespace junction::admin {

http::HttpResponse json_response(const json& body, int status) {
  http::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

http::HttpResponse error_response(int status, std::string_view message) {
  return json_response(json{{"error", std::string(message)}}, status);
}

std::optional<std::string_view> query_value(const Query& q, std::string_view key) {
  auto it = q.find(key);
  if (it == q.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::uint64_t> query_uint(const Query& q, std::string_view key, std::optional<http::HttpResponse>& error) {
  auto v = query_value(q, key);
  if (!v) return std::nullopt;
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size()) {
    error = error_response(400, "query parameter '" + std::string(key) + "' must be a non-negative integer");
    return std::nullopt;
  }
  return n;
}

bool query_true(const Query& q, std::string_view key) {
  auto v = query_value(q, key);
  return v && (*v == "true" || *v == "1");
}

http::HttpResponse list_response(json items, const Query& q) {
  std::optional<http::HttpResponse> error;
  const auto offset = query_uint(q, "offset", error);
  const auto limit = query_uint(q, "limit", error);
  if (error) return *error;
  if (auto sort = query_value(q, "sort"); sort && !sort->empty()) {
    const bool desc = sort->front() == '-';
    const std::string field(desc ? sort->substr(1) : *sort);
    if (!items.empty() && !items.front().contains(field))
      return error_response(400, "cannot sort by '" + field + "': no such field");
    std::stable_sort(items.begin(), items.end(), [&](const json& a, const json& b) {
      const json& x = a.contains(field) ? a[field] : json();
      const json& y = b.contains(field) ? b[field] : json();
      return desc ? y < x : x < y;
    });
  }
  const std::size_t total = items.size();
  const std::size_t from = std::min<std::size_t>(offset.value_or(0), total);
  const std::size_t n = std::min<std::size_t>(limit.value_or(total), total - from);
  json page = json::array();
  for (std::size_t i = from; i < from + n; ++i) page.push_back(std::move(items[i]));
  return json_response(json{{"items", std::move(page)}, {"total", total}});
}

void put_payload(json& obj, std::string_view bytes) {
  if (core::valid_utf8(bytes)) {
    obj["payload"] = std::string(bytes);
  } else {
    std::string b64;
    core::base64_encode(bytes, b64);
    obj["payload_base64"] = std::move(b64);
  }
}

std::string iso_time(std::int64_t wall_ms) {
  if (wall_ms <= 0) return {};
  const std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(wall_ms % 1000));
  return buf;
}

}  // namespace junction::admin
