// MQTT 5 properties <-> core message properties, both directions, in one
// place (PUBLISH and the will come in through message_properties_from; every
// outgoing PUBLISH goes out through properties_of). Message expiry is not
// here: a PUBLISH's expiry runs from now, a will's from when it is published.
#pragma once

#include "message.h"
#include "mqtt_codec.h"

namespace junction::mqtt {

// Payload format, content type, response topic, correlation data and user
// properties of `p` into `m` (allocating m's properties only when one is set).
void message_properties_from(const Properties& p, core::Message& m);
// The same back: what an MQTT 5 subscriber gets of the message's own properties.
Properties properties_of(const core::Message& m);

}  // namespace junction::mqtt
