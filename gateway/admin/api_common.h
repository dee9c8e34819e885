// Helpers every admin API handler shares: JSON answers and errors, the
// list conventions ({"items": [...], "total": N} with limit / offset / sort
// / filter), payloads as text or base64, and the request's decoded query.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http_service.h"

namespace junction::admin {

using json = nlohmann::json;
using Query = std::map<std::string, std::string, std::less<>>;

http::HttpResponse json_response(const json& body, int status = 200);
http::HttpResponse error_response(int status, std::string_view message);

// The query's value of `key`, if present.
std::optional<std::string_view> query_value(const Query& q, std::string_view key);
// A non-negative integer parameter: nullopt when absent; an error answer
// in `error` when malformed.
std::optional<std::uint64_t> query_uint(const Query& q, std::string_view key, std::optional<http::HttpResponse>& error);
bool query_true(const Query& q, std::string_view key);  // "true" or "1"

// Sorts (sort=field or sort=-field), pages (offset, limit) and wraps items:
// {"items": [...], "total": N} where total counts before paging. A bad
// parameter answers 400.
http::HttpResponse list_response(json items, const Query& q);

// "payload" when the bytes are UTF-8 text (without NUL), else "payload_base64".
void put_payload(json& obj, std::string_view bytes);
// ISO 8601 UTC with milliseconds, from wall-clock ms.
std::string iso_time(std::int64_t wall_ms);

}  // namespace junction::admin
