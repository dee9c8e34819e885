// junction::ctl views: the admin API's JSON answers as text for a terminal
// (tables for lists, name/value lines for the broker). Pure functions of
// the JSON, so they are unit-tested without a server.
//
// Lenient by design: a missing or null field shows as "-" and an unknown
// one is ignored (or, for counters, listed after the known ones), so ctl
// keeps working against a broker a version newer or older than itself.
// A list answer must still be {"items": [...]}: list_items() says whether
// it is. Whatever the server sends, the text has no control character but
// '\n' (table.h: printable), so an answer cannot drive the terminal.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace junction::ctl {

// {"items": [...], ...} -> the array; null when the answer has no list.
const nlohmann::json* list_items(const nlohmann::json& answer);

std::string render_status(const nlohmann::json& broker);
std::string render_clients(const nlohmann::json& answer);
std::string render_queues(const nlohmann::json& answer);
std::string render_bridges(const nlohmann::json& answer);
std::string render_retained(const nlohmann::json& answer);

// One-line confirmations of the commands that change something.
std::string render_kick(const nlohmann::json& answer, std::string_view client_id);
std::string render_purge(const nlohmann::json& answer, std::string_view queue);
std::string render_move(const nlohmann::json& answer, std::string_view from, std::string_view to);
std::string render_publish(const nlohmann::json& answer, std::string_view topic);

// A field for a table cell: strings as they are, numbers, true/false as
// yes/no, null or missing as "-", arrays and objects as compact JSON.
std::string cell(const nlohmann::json& object, std::string_view key);

// 45 -> "45s", 3725 -> "1h 02m", 180000 -> "2d 02h".
std::string format_duration(double seconds);
// 512 -> "512 B", 1536 -> "1.5 KiB".
std::string format_bytes(std::uint64_t bytes);

// An MQTT topic filter [MQTT-4.7.1]: '+' alone in its level, '#' alone in
// the last level. Checked before `retained --filter` asks, so a typo is a
// usage error (exit 2) rather than the server's 400.
bool valid_topic_filter(std::string_view filter);

}  // namespace junction::ctl
