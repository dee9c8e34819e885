// Errors from reading or writing the password and ACL files. The message
// always starts with "FILE:LINE: " (or "FILE: " when no line is involved),
// so start-up can print it as it is and exit 1.
#pragma once

#include <stdexcept>
#include <string>

namespace junction::auth {

class AuthFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail_at(const std::string& source, int line, const std::string& what) {
  throw AuthFileError(source + ":" + std::to_string(line) + ": " + what);
}

// Reads a whole file; throws AuthFileError naming it.
std::string read_text_file(const std::string& path);

}  // namespace junction::auth
