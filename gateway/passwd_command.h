// `junction passwd`: creates and updates Mosquitto-format password files,
// modelled on mosquitto_passwd (same options, same file format):
//
//   junction passwd [-c] FILE USER              ask for the password (twice on a terminal)
//   junction passwd [-c] -b FILE USER PASSWORD  password on the command line
//   junction passwd -D FILE USER                delete USER
//
// -c creates (or overwrites) FILE; without it FILE must exist. Without -b
// the password is read from the terminal with echo off, or as one line from
// standard input when that is not a terminal. The file is written with mode
// 0600, atomically (temporary file + rename). Exit 0 on success, 1 on error.
#pragma once

namespace junction {

int run_passwd_command(int argc, char** argv);  // argv[0] is "passwd"

}  // namespace junction
