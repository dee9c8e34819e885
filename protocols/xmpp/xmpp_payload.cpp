#include "xmpp_payload.h"

#include "base64.h"
#include "xmpp_bridge.h"

namespace junction::xmpp {

Element encode_payload(const core::Message& m, bool body_inside, std::string& body) {
  Element j(kNsJunction, "junction");
  j.set("topic", m.topic);
  j.set("id", std::to_string(m.id));
  if (m.retain) j.set("retain", "true");
  body.clear();
  if (xml_text_ok(m.payload)) {
    body = m.payload;
  } else {
    j.add("binary");
    core::base64_encode(m.payload, body);
  }
  const core::MessageProperties& p = m.props();
  if (!p.content_type.empty()) j.add("content-type").text = p.content_type;
  if (!p.correlation_data.empty()) core::base64_encode(p.correlation_data, j.add("correlation").text);
  if (!p.response_topic.empty()) j.add("response-topic").text = p.response_topic;
  for (const core::UserProperty& up : p.user_properties) {
    Element& e = j.add("property");
    e.set("name", up.name);
    if (xml_text_ok(up.value)) {
      e.text = up.value;
    } else {
      e.set("encoding", "base64");
      core::base64_encode(up.value, e.text);
    }
  }
  if (body_inside) j.add("body").text = std::move(body);
  return j;
}

bool decode_payload(const Element* junction, const std::string& body, core::Message& m) {
  if (junction != nullptr && junction->child("binary", kNsJunction) != nullptr) {
    m.payload.clear();
    if (!core::base64_decode(body, m.payload, core::Base64Spaces::Skip)) return false;
  } else {
    m.payload = body;
  }
  if (junction == nullptr) return true;
  for (const Element& c : junction->children) {
    if (c.ns != kNsJunction) continue;
    if (c.name == "content-type") {
      m.mutable_props().content_type = c.text;
    } else if (c.name == "correlation") {
      if (!core::base64_decode(c.text, m.mutable_props().correlation_data, core::Base64Spaces::Skip)) return false;
    } else if (c.name == "response-topic") {
      m.mutable_props().response_topic = c.text;
    } else if (c.name == "property") {
      core::UserProperty up;
      up.name = c.attr_or("name");
      if (c.attr_or("encoding") == "base64") {
        if (!core::base64_decode(c.text, up.value, core::Base64Spaces::Skip)) return false;
      } else {
        up.value = c.text;
      }
      m.mutable_props().user_properties.push_back(std::move(up));
    }
  }
  return true;
}

bool decode_item(const Element& item, core::Message& m) {
  if (item.children.empty()) {
    m.payload.clear();
    return true;
  }
  const Element& payload = item.children.front();
  if (payload.ns == kNsJunction && payload.name == "junction") {
    const Element* body = payload.child("body", kNsJunction);
    return decode_payload(&payload, body ? body->text : std::string(), m);
  }
  m.payload.clear();
  serialize(payload, m.payload, {});
  m.mutable_props().content_type = "application/xml";
  return true;
}

}  // namespace junction::xmpp
