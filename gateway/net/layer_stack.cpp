#include "layer_stack.h"

namespace junction::net {

namespace {
const std::string kNoError;
}

bool LayerStack::open() const {
  for (const auto& l : layers_)
    if (!l->open()) return false;
  return true;
}

const std::string& LayerStack::error() const {
  return failed_ >= 0 ? layers_[static_cast<std::size_t>(failed_)]->error() : kNoError;
}

LayerStatus LayerStack::stop(std::size_t layer, LayerStatus s) {
  if (s != LayerStatus::Ok && failed_ < 0) failed_ = static_cast<int>(layer);
  return s;
}

LayerStatus LayerStack::descend(std::size_t from, std::string bytes, std::string& wire_out) {
  for (std::size_t j = from; j-- > 0 && !bytes.empty();) {
    std::string below;
    LayerStatus s = layers_[j]->on_output(bytes, below);
    bytes = std::move(below);
    if (s != LayerStatus::Ok) {
      wire_out += bytes;
      return stop(j, s);
    }
  }
  wire_out += bytes;
  return LayerStatus::Ok;
}

LayerStatus LayerStack::start(std::string& wire_out) {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::string down;
    LayerStatus s = layers_[i]->start(down);
    LayerStatus d = descend(i, std::move(down), wire_out);
    if (s != LayerStatus::Ok) return stop(i, s);
    if (d != LayerStatus::Ok) return d;
  }
  return LayerStatus::Ok;
}

LayerStatus LayerStack::on_wire(std::span<const std::uint8_t> in, std::string& app, std::string& wire_out) {
  if (failed_ >= 0) return LayerStatus::Close;
  std::string carry;  // layer i's decoded output, layer i+1's input
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    std::span<const std::uint8_t> input =
        i == 0 ? in : std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(carry.data()), carry.size());
    if (input.empty()) break;
    bool top = i + 1 == layers_.size();
    std::string up, down;
    LayerStatus s = layers_[i]->on_input(input, top ? app : up, down);
    LayerStatus d = descend(i, std::move(down), wire_out);
    if (s != LayerStatus::Ok) return stop(i, s);
    if (d != LayerStatus::Ok) return d;
    carry = std::move(up);
  }
  return LayerStatus::Ok;
}

LayerStatus LayerStack::on_app(std::string_view app, std::string& wire_out) {
  if (failed_ >= 0) return LayerStatus::Close;
  if (layers_.empty()) {
    wire_out += app;
    return LayerStatus::Ok;
  }
  std::string down;
  std::size_t top = layers_.size() - 1;
  LayerStatus s = layers_[top]->on_output(app, down);
  LayerStatus d = descend(top, std::move(down), wire_out);
  if (s != LayerStatus::Ok) return stop(top, s);
  return d;
}

void LayerStack::shutdown(std::string& wire_out) {
  for (std::size_t i = layers_.size(); i-- > 0;) {
    std::string down;
    layers_[i]->shutdown(down);
    (void)descend(i, std::move(down), wire_out);
  }
}

}  // namespace junction::net
