// Core Message <-> XML payload, the same both ways for PubSub items and
// chat messages. The namespaced element (kNsJunction):
//
//   <junction xmlns='urn:junction:xmpp:0' topic='a/b' id='42' [retain='true']>
//     <binary/>                      marker: the body is base64 of the bytes
//     <content-type>..</content-type>
//     <correlation>BASE64</correlation>
//     <response-topic>..</response-topic>
//     <property name='k'>v</property>         (encoding='base64' when v is not XML text)
//     <body>..</body>                (PubSub items only; a chat message uses its own <body>)
//   </junction>
//
// A payload that is UTF-8 XML can carry goes as text, anything else as
// base64 with the <binary/> marker; correlation data is always base64.
#pragma once

#include <string>

#include "message.h"
#include "xml_element.h"

namespace junction::xmpp {

// `body_inside`: put the payload into a <body> child (PubSub); otherwise it
// is returned in `body` for the stanza's own <body>.
Element encode_payload(const core::Message& m, bool body_inside, std::string& body);

// Fills payload and properties of `m` from a chat message's `body` and its
// optional <junction/> element. False: base64 that does not decode.
bool decode_payload(const Element* junction, const std::string& body, core::Message& m);

// A PubSub <item/>: a <junction/> payload is decoded as above; any other
// payload element is kept as its XML text (content type application/xml);
// an empty item is an empty payload.
bool decode_item(const Element& item, core::Message& m);

}  // namespace junction::xmpp
