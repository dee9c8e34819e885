// `junction ctl`: a command-line client of the broker's admin HTTP API
// (the `http` listener, default http://127.0.0.1:8081).
//
//   junction ctl [--url URL] [--user U] [--password P] [--json] COMMAND
//     status | clients | kick ID [--session] | queues | purge QUEUE
//     | move QUEUE --to QUEUE2 [--limit N] | retained [--filter F]
//     | bridges | publish TOPIC PAYLOAD [--qos N] [--retain]
//
// Credentials: --user (or JUNCTION_USER) with --password, JUNCTION_PASSWORD,
// or a prompt when standard input is a terminal. Output: aligned tables
// (views.h); --json prints the server's JSON as it came (for `retained
// --filter`, with the items the filter rejects removed).
// Exit codes (api.h): 0 ok, 1 the server answered an error, 2 usage,
// 3 no answer (connect, TLS, timeout), 4 authentication (401/403).
#pragma once

namespace junction::ctl {

int run_ctl_command(int argc, char** argv);  // argv[0] is "ctl"

}  // namespace junction::ctl
