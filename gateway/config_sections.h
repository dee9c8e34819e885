// The section readers defined outside config.cpp (internal to the config
// library), for its top-level binder.
#pragma once

#include "config.h"
#include "config_binder.h"

namespace junction::config_binder {

// config_listeners.cpp: the list, its overlap rules.
void read_listeners(const Field& f, Config& c);
// config_bridges.cpp
const Binder<XmppConfig>& xmpp_binder();
void read_bridges(const Field& f, Config& c);  // the list, unique names

}  // namespace junction::config_binder
