#include "views.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

#include "table.h"

namespace junction::ctl {

using nlohmann::json;

namespace {

const json* field(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string bytes_cell(const json& object, std::string_view key) {
  const json* v = field(object, key);
  if (v && v->is_number_unsigned()) return format_bytes(v->get<std::uint64_t>());
  if (v && v->is_number_integer() && v->get<std::int64_t>() >= 0) return format_bytes(v->get<std::uint64_t>());
  return cell(object, key);
}

std::string age_ms_cell(const json& object, std::string_view key) {
  const json* v = field(object, key);
  if (v && v->is_number()) return format_duration(v->get<double>() / 1000.0);
  return cell(object, key);
}

// A time stamp: an ISO 8601 string as sent; a number is Unix time in
// seconds, or in milliseconds when it is too large for seconds.
std::string time_cell(const json& object, std::string_view key) {
  const json* v = field(object, key);
  if (!v || !v->is_number()) return cell(object, key);
  double t = v->get<double>();
  if (t > 1e11) t /= 1000.0;
  // Up to the year 9999; anything else is shown as the server sent it (and
  // never reaches a float-to-integer conversion that could overflow).
  if (!(t >= 0 && t < 253402300800.0)) return cell(object, key);
  const std::time_t secs = static_cast<std::time_t>(t);
  std::tm tm{};
  if (::gmtime_r(&secs, &tm) == nullptr) return cell(object, key);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "shown N of TOTAL" when the server sent fewer items than it has.
std::string footer(const json& answer, std::size_t shown, const char* noun) {
  if (shown == 0) return std::string("no ") + noun + "\n";
  const json* total = field(answer, "total");
  if (total && total->is_number_unsigned() && total->get<std::uint64_t>() > shown)
    return "showing " + std::to_string(shown) + " of " + std::to_string(total->get<std::uint64_t>()) + " " + noun +
           "\n";
  return {};
}

std::string label(std::string_view key) {
  std::string out(key);
  for (char& c : out)
    if (c == '_') c = ' ';
  return out;
}

// First the known counters in the contract's order, then any others.
std::vector<std::pair<std::string, std::string>> counter_pairs(const json& counters) {
  static constexpr const char* kKnown[] = {"messages_received", "messages_delivered", "messages_dropped", "connections",
                                           "sessions",          "subscriptions",      "retained",         "queues"};
  std::vector<std::pair<std::string, std::string>> out;
  if (!counters.is_object()) return out;
  for (const char* key : kKnown)
    if (counters.contains(key)) out.emplace_back(label(key), cell(counters, key));
  for (const auto& [key, value] : counters.items()) {
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known) out.emplace_back(label(key), cell(counters, key));
  }
  return out;
}

std::vector<std::string_view> levels(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t slash = s.find('/');
    out.push_back(s.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    s.remove_prefix(slash + 1);
  }
}

}  // namespace

std::string cell(const json& object, std::string_view key) {
  const json* v = field(object, key);
  if (!v) return "-";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_boolean()) return v->get<bool>() ? "yes" : "no";
  return v->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string format_duration(double seconds) {
  // Negative, NaN, or beyond any uptime (and any uint64_t conversion).
  if (!(seconds >= 0 && seconds < 1e15)) return "-";
  char buf[48];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1000.0);
    return buf;
  }
  const auto s = static_cast<std::uint64_t>(seconds);
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%" PRIu64 "s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%" PRIu64 "h %02" PRIu64 "m", s / 3600, s % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%" PRIu64 "d %02" PRIu64 "h", s / 86400, s % 86400 / 3600);
  return buf;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (v >= 1024.0 && unit + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[unit]);
  return buf;
}

bool valid_topic_filter(std::string_view filter) {
  if (filter.empty()) return false;
  const auto parts = levels(filter);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto level = parts[i];
    if (level.find('#') != std::string_view::npos && (level != "#" || i + 1 != parts.size())) return false;
    if (level.find('+') != std::string_view::npos && level != "+") return false;
  }
  return true;
}

const json* list_items(const json& answer) {
  const json* items = field(answer, "items");
  return items && items->is_array() ? items : nullptr;
}

std::string render_status(const json& b) {
  std::vector<std::pair<std::string, std::string>> head = {
      {"version", cell(b, "version")},
      {"node", cell(b, "node_id")},
  };
  const json* uptime = field(b, "uptime_s");
  head.emplace_back("uptime", uptime && uptime->is_number() ? format_duration(uptime->get<double>()) : "-");
  if (const json* store = field(b, "store")) {
    head.emplace_back("store", cell(*store, "path"));
    head.emplace_back("store mode", cell(*store, "mode"));
    head.emplace_back("store used", bytes_cell(*store, "used_bytes") + " of " + bytes_cell(*store, "map_size"));
  }
  std::string out = render_pairs(head);

  if (const json* listeners = field(b, "listeners"); listeners && listeners->is_array() && !listeners->empty()) {
    Table t({{"LISTENER"}, {"PROTOCOL"}, {"TRANSPORT"}, {"BIND"}, {"PORT", Align::Right}});
    for (const auto& l : *listeners)
      t.add_row({cell(l, "name"), cell(l, "protocol"), cell(l, "transport"), cell(l, "bind"), cell(l, "port")});
    out += "\n" + t.render();
  }
  if (const json* counters = field(b, "counters")) {
    const auto pairs = counter_pairs(*counters);
    if (!pairs.empty()) {
      Table t({{"COUNTER"}, {"VALUE", Align::Right}});
      for (const auto& [name, value] : pairs) t.add_row({name, value});
      out += "\n" + t.render();
    }
  }
  return out;
}

std::string render_clients(const json& answer) {
  const json* items = list_items(answer);
  if (!items) return {};
  Table t({{"CLIENT ID"},
           {"PROTOCOL"},
           {"USER"},
           {"PEER"},
           {"CONNECTED"},
           {"SUBS", Align::Right},
           {"QUEUED", Align::Right},
           {"INFLIGHT", Align::Right},
           {"DROPPED", Align::Right}});
  for (const auto& c : *items) {
    std::string protocol = cell(c, "protocol");
    if (field(c, "protocol_version")) protocol += " " + cell(c, "protocol_version");
    // An offline persistent session is listed too (connected: false).
    const json* online = field(c, "connected");
    const bool offline = online && online->is_boolean() && !online->get<bool>();
    t.add_row({cell(c, "client_id"), protocol, cell(c, "username"), cell(c, "peer"),
               offline ? std::string("offline") : time_cell(c, "connected_at"),
               cell(c, "subscriptions"), cell(c, "queued"), cell(c, "inflight"), cell(c, "dropped")});
  }
  return (t.size() ? t.render() : "") + footer(answer, t.size(), "clients");
}

std::string render_queues(const json& answer) {
  const json* items = list_items(answer);
  if (!items) return {};
  Table t({{"QUEUE"},
           {"MESSAGES", Align::Right},
           {"BYTES", Align::Right},
           {"CONSUMERS", Align::Right},
           {"UNACKED", Align::Right},
           {"OLDEST", Align::Right},
           {"DEAD LETTER"}});
  for (const auto& q : *items)
    t.add_row({cell(q, "name"), cell(q, "messages"), bytes_cell(q, "bytes"), cell(q, "consumers"), cell(q, "unacked"),
               age_ms_cell(q, "oldest_age_ms"), cell(q, "dead_letter")});
  return (t.size() ? t.render() : "") + footer(answer, t.size(), "queues");
}

std::string render_bridges(const json& answer) {
  const json* items = list_items(answer);
  if (!items) return {};
  Table t({{"BRIDGE"},
           {"KIND"},
           {"STATE"},
           {"UPSTREAM"},
           {"OUTBOX", Align::Right},
           {"CONFIRMS", Align::Right},
           {"SINCE"},
           {"LAST ERROR"}});
  for (const auto& b : *items)
    t.add_row({cell(b, "name"), cell(b, "kind"), cell(b, "state"), cell(b, "upstream"), cell(b, "outbox"),
               cell(b, "confirms_pending"), time_cell(b, "since"), cell(b, "last_error")});
  return (t.size() ? t.render() : "") + footer(answer, t.size(), "bridges");
}

std::string render_retained(const json& answer) {
  const json* items = list_items(answer);
  if (!items) return {};
  Table t({{"TOPIC"}, {"QOS", Align::Right}, {"SIZE", Align::Right}});
  for (const auto& r : *items) t.add_row({cell(r, "topic"), cell(r, "qos"), bytes_cell(r, "payload_size")});
  return (t.size() ? t.render() : "") + footer(answer, t.size(), "retained messages");
}

std::string render_kick(const json& answer, std::string_view client_id) {
  const json* d = field(answer, "disconnected");
  const json* s = field(answer, "session_removed");
  const bool disconnected = d && d->is_boolean() && d->get<bool>();
  const bool removed = s && s->is_boolean() && s->get<bool>();
  return printable(client_id) + (disconnected ? ": disconnected" : ": was not connected") +
         (removed ? ", session removed\n" : "\n");
}
std::string render_purge(const json& answer, std::string_view queue) {
  return printable(queue) + ": " + printable(cell(answer, "purged")) + " messages purged\n";
}

std::string render_move(const json& answer, std::string_view from, std::string_view to) {
  return printable(cell(answer, "moved")) + " messages moved from " + printable(from) + " to " + printable(to) + "\n";
}

std::string render_publish(const json& answer, std::string_view topic) {
  std::string out = "published to " + printable(topic);
  // Whatever else the server reports (matched subscribers, a message id).
  if (answer.is_object())
    for (const auto& [key, value] : answer.items())
      if (key != "published") out += ", " + printable(label(key)) + ": " + printable(cell(answer, key));
  return out + "\n";
}

}  // namespace junction::ctl
