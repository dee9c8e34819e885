// junction::terminal — reading a secret or a line from standard input, for
// the commands that ask (`junction passwd`, `junction ctl --user`).
#pragma once

#include <string>

namespace junction::terminal {

// True when standard input is a terminal (a prompt makes sense).
bool stdin_is_terminal();

// Reads one line from stdin; a trailing '\r' is dropped. `prompt` (may be
// null) goes to stderr. With `hide` and a terminal, echo is off while the
// line is typed. False at end of input.
bool read_line(const char* prompt, bool hide, std::string& out);

}  // namespace junction::terminal
