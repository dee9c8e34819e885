// junction::bench Progress — the live status line. Enabled only when stdout
// is a terminal, JSON is not going to stdout and --quiet is off; then each
// update() rewrites the line in place with '\r' (the driver calls it once a
// second) and finish() erases it.
#pragma once

#include <string>

namespace junction::bench {

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled) {}
  // The policy above, from the options and isatty(1).
  static bool wanted(bool quiet, const std::string& json_path);

  bool enabled() const { return enabled_; }
  void update(const std::string& line);
  void finish();

 private:
  bool enabled_;
  std::size_t last_len_ = 0;
};

// "12.3k" style rate for the line.
std::string short_rate(double per_s);

}  // namespace junction::bench
