// junction::sd — systemd's readiness protocol without libsystemd: one
// datagram of "KEY=VALUE" lines to the AF_UNIX socket named by
// $NOTIFY_SOCKET (sd_notify(3)). A name starting with '@' is in the
// abstract namespace ('@' becomes the leading NUL). Without $NOTIFY_SOCKET
// (not started by systemd, or not Type=notify) every call is a no-op.
//
// main.cpp sends READY=1 once the listeners are bound and STOPPING=1 when
// the loop has ended; RELOADING=1 is here for a reload that reports its end
// (Type=notify-reload, systemd 253+), not used with Type=notify.
#pragma once

#include <string>
#include <string_view>

namespace junction::sd {

enum class NotifyResult { Sent, NoSocket, Failed };

// Sends `state` to the socket `socket_name` ("/run/...", "@abstract").
// Failed (and `error`) when the name is unusable or the send fails.
NotifyResult notify_to(std::string_view socket_name, std::string_view state, std::string* error = nullptr);

// The same to $NOTIFY_SOCKET; NoSocket when it is unset or empty.
NotifyResult notify(std::string_view state, std::string* error = nullptr);

NotifyResult notify_ready(std::string* error = nullptr);
// "RELOADING=1" with MONOTONIC_USEC, as systemd 253 wants it.
NotifyResult notify_reloading(std::string* error = nullptr);
NotifyResult notify_stopping(std::string* error = nullptr);

}  // namespace junction::sd
