#include "log.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

namespace junction::log {

namespace {

std::atomic<int> output_fd{2};

// Writes all of [p, p+n) unless the descriptor is broken; logging never fails
// the caller.
void write_all(int fd, const char* p, std::size_t n) noexcept {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

void set_level(Level l) noexcept { detail::current_level.store(l, std::memory_order_relaxed); }

void set_output_fd(int fd) noexcept { output_fd.store(fd, std::memory_order_relaxed); }

const char* level_name(Level l) noexcept {
  switch (l) {
    case Level::error: return "error";
    case Level::warning: return "warning";
    case Level::notice: return "notice";
    case Level::info: return "info";
    case Level::debug: return "debug";
  }
  return "?";
}

bool parse_level(std::string_view name, Level& out) noexcept {
  for (Level l : {Level::error, Level::warning, Level::notice, Level::info, Level::debug}) {
    if (name == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void vwrite(Level l, const char* fmt, std::va_list ap) noexcept {
  // Most lines fit the stack buffer; a longer one is formatted twice into
  // the heap rather than truncated.
  char stack[1024];
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  int head = std::snprintf(stack, sizeof stack, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ",
                           utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                           utc.tm_min, utc.tm_sec, ts.tv_nsec / 1000000, level_name(l));
  if (head < 0) return;
  std::va_list copy;
  va_copy(copy, ap);
  std::size_t room = sizeof stack - static_cast<std::size_t>(head);
  int body = std::vsnprintf(stack + head, room, fmt, copy);
  va_end(copy);
  if (body < 0) return;
  std::size_t total = static_cast<std::size_t>(head) + static_cast<std::size_t>(body);
  int fd = output_fd.load(std::memory_order_relaxed);
  if (static_cast<std::size_t>(body) + 1 < room) {
    stack[total] = '\n';
    write_all(fd, stack, total + 1);
    return;
  }
  char* heap = static_cast<char*>(std::malloc(total + 2));
  if (heap == nullptr) {  // keep what fit rather than nothing
    stack[sizeof stack - 1] = '\n';
    write_all(fd, stack, sizeof stack);
    return;
  }
  std::snprintf(heap, total + 2, "%.*s", head, stack);
  std::vsnprintf(heap + head, static_cast<std::size_t>(body) + 1, fmt, ap);
  heap[total] = '\n';
  write_all(fd, heap, total + 1);
  std::free(heap);
}

void write(Level l, const char* fmt, ...) noexcept {
  if (!enabled(l)) return;
  std::va_list ap;
  va_start(ap, fmt);
  vwrite(l, fmt, ap);
  va_end(ap);
}

// One body per level: the check comes before va_start so a filtered call
// costs a load and a compare.
#define JUNCTION_LOG_LEVEL_FN(name)                  \
  void name(const char* fmt, ...) noexcept {         \
    if (!enabled(Level::name)) return;               \
    std::va_list ap;                                 \
    va_start(ap, fmt);                               \
    vwrite(Level::name, fmt, ap);                    \
    va_end(ap);                                      \
  }

JUNCTION_LOG_LEVEL_FN(error)
JUNCTION_LOG_LEVEL_FN(warning)
JUNCTION_LOG_LEVEL_FN(notice)
JUNCTION_LOG_LEVEL_FN(info)
JUNCTION_LOG_LEVEL_FN(debug)

#undef JUNCTION_LOG_LEVEL_FN

}  // namespace junction::log
