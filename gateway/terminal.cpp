#include "terminal.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace junction::terminal {

bool stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }

bool read_line(const char* prompt, bool hide, std::string& out) {
  struct termios old {};
  const bool tty = hide && ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    struct termios quiet = old;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  // The prompt comes after echo is off (and type-ahead flushed), so what is
  // typed once it shows is neither echoed nor discarded.
  if (prompt) {
    std::fputs(prompt, stderr);
    std::fflush(stderr);
  }
  const bool ok = static_cast<bool>(std::getline(std::cin, out));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::fputc('\n', stderr);
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return ok;
}

}  // namespace junction::terminal
