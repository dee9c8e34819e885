#include "passwd_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <sys/stat.h>

#include "auth_file_error.h"
#include "password_file.h"
#include "terminal.h"

namespace junction {

namespace {

bool ask_password(std::string& password) {
  if (!::isatty(STDIN_FILENO)) {
    if (!terminal::read_line(nullptr, false, password)) {
      std::fprintf(stderr, "Error: no password on standard input\n");
      return false;
    }
    return true;
  }
  std::string again;
  if (!terminal::read_line("Password: ", true, password) || !terminal::read_line("Reenter password: ", true, again)) {
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
