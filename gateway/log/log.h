// junction::log — one-line, printf-style logging to stderr.
//
//   2025-01-31T12:00:00.123Z notice listening: mqtt/tcp 127.0.0.1:1883
//
// The level is the one piece of process-wide state in Junction (STYLE 15):
// every box logs and threading a logger through each constructor buys
// nothing. It is an atomic, so the store thread may log too, and each line
// leaves in a single write(2) so lines from two threads never interleave.
//
// Cost: a call below the current level is one relaxed load and a compare;
// the format string is not touched. Wrap expensive arguments in
// `if (log::enabled(log::Level::debug))`.
//
// No uv, no yaml, no iostreams: the core and the codecs may depend on this.
#pragma once

#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <string_view>

namespace junction::log {

// Ordered by severity: a message is written when its level <= the current one.
enum class Level : std::uint8_t { error = 0, warning, notice, info, debug };

namespace detail {
inline std::atomic<Level> current_level{Level::info};
}

inline bool enabled(Level l) noexcept {
  return l <= detail::current_level.load(std::memory_order_relaxed);
}
void set_level(Level l) noexcept;
inline Level level() noexcept { return detail::current_level.load(std::memory_order_relaxed); }

// "error", "warning", "notice", "info", "debug".
const char* level_name(Level l) noexcept;
// Accepts the names above; false (and `out` untouched) for anything else.
bool parse_level(std::string_view name, Level& out) noexcept;

// Where lines go (default 2 = stderr). For tests and daemons.
void set_output_fd(int fd) noexcept;

#if defined(__GNUC__)
#define JUNCTION_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define JUNCTION_PRINTF(fmt_index, first_arg)
#endif

void write(Level l, const char* fmt, ...) noexcept JUNCTION_PRINTF(2, 3);
void vwrite(Level l, const char* fmt, std::va_list ap) noexcept;

void error(const char* fmt, ...) noexcept JUNCTION_PRINTF(1, 2);
void warning(const char* fmt, ...) noexcept JUNCTION_PRINTF(1, 2);
void notice(const char* fmt, ...) noexcept JUNCTION_PRINTF(1, 2);
void info(const char* fmt, ...) noexcept JUNCTION_PRINTF(1, 2);
void debug(const char* fmt, ...) noexcept JUNCTION_PRINTF(1, 2);

}  // namespace junction::log
