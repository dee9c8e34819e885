// junction::bench Progress: '\r' status line on a terminal.
#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace junction::bench {

bool Progress::wanted(bool quiet, const std::string& json_path) {
  return !quiet && json_path != "-" && isatty(STDOUT_FILENO) == 1;
}

void Progress::update(const std::string& line) {
  if (!enabled_) return;
  std::string text = "\r" + line;
  if (line.size() < last_len_) text.append(last_len_ - line.size(), ' ');
  last_len_ = line.size();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void Progress::finish() {
  if (!enabled_ || last_len_ == 0) return;
  // Erase the line: the summary that follows says it all.
  std::string blank = "\r" + std::string(last_len_, ' ') + "\r";
  std::fwrite(blank.data(), 1, blank.size(), stdout);
  std::fflush(stdout);
  last_len_ = 0;
}

std::string short_rate(double v) {
  char b[32];
  if (v >= 1e6) {
    std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
  } else if (v >= 1e3) {
    std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
  } else {
    std::snprintf(b, sizeof b, "%.0f", v);
  }
  return b;
}

}  // namespace junction::bench
