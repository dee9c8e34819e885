#include "passwd_command.h"

#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <sys/stat.h>

#include "auth_file_error.h"
#include "password_file.h"

namespace junction {

namespace {

// Reads one line from stdin; with `hide`, terminal echo is off meanwhile.
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

bool ask_password(std::string& password) {
  if (!::isatty(STDIN_FILENO)) {
    if (!read_line(nullptr, false, password)) {
      std::fprintf(stderr, "Error: no password on standard input\n");
      return false;
    }
    return true;
  }
  std::string again;
  if (!read_line("Password: ", true, password) || !read_line("Reenter password: ", true, again)) {
    std::fprintf(stderr, "Error: no password read\n");
    return false;
  }
  if (password != again) {
    std::fprintf(stderr, "Error: Passwords do not match.\n");
    return false;
  }
  return true;
}

}  // namespace

int run_passwd_command(int argc, char** argv) {
  CLI::App cli{"Create or update a Mosquitto-format password file", "junction passwd"};
  bool create = false, batch = false, remove = false;
  std::string file, user, password;
  cli.add_flag("-c", create, "Create FILE (overwrite it if it exists)");
  cli.add_flag("-b", batch, "Take the password from the command line");
  cli.add_flag("-D", remove, "Delete USER from FILE");
  cli.add_option("FILE", file, "Password file")->required();
  cli.add_option("USER", user, "User name")->required();
  cli.add_option("PASSWORD", password, "Password (with -b)");
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 1;
  }
  if (create && remove) {
    std::fprintf(stderr, "Error: -c and -D cannot be used together.\n");
    return 1;
  }
  if (batch && remove) {
    std::fprintf(stderr, "Error: -b and -D cannot be used together.\n");
    return 1;
  }
  if (!batch && !password.empty()) {
    std::fprintf(stderr, "Error: a password on the command line needs -b.\n");
    return 1;
  }
  if (batch && cli.count("PASSWORD") == 0) {
    std::fprintf(stderr, "Error: -b needs the password as the last argument.\n");
    return 1;
  }
  if (const char* why = auth::PasswordFile::invalid_user(user)) {
    std::fprintf(stderr, "Error: %s.\n", why);
    return 1;
  }
  try {
    auth::PasswordFile pw;
    if (!create) pw = auth::PasswordFile::load(file);
    if (remove) {
      if (!pw.remove(user)) {
        std::fprintf(stderr, "Warning: user '%s' is not in %s\n", user.c_str(), file.c_str());
        return 0;
      }
    } else {
      if (!batch && !ask_password(password)) return 1;
      pw.set(user, password);
    }
    pw.save(file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace junction
