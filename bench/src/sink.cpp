// junction::bench sink: discard server on the project's MQTT codec.
#include "sink.h"

#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "mqtt_codec.h"
#include "progress.h"
#include "stream.h"

namespace junction::bench {

namespace {

using mqtt::PacketType;

constexpr std::size_t kMaxQueued = 64u << 20;  // per subscriber; past it reflections are dropped

class Sink;

class SinkConn final : public Stream::Handler {
 public:
  SinkConn(Io& io, Sink& sink) : stream_(io, *this), sink_(sink) {}
  Stream& stream() { return stream_; }
  mqtt::Version version() const { return version_; }
  std::vector<std::string>& filters() { return filters_; }

 private:
  void on_connected(int) override {}
  std::size_t on_data(Bytes data) override;
  void on_disconnect(int) override {}
  void on_closed() override;
  bool handle(const mqtt::Frame& f);
  void ack(std::uint8_t first, std::uint16_t id) {
    const char b[4] = {static_cast<char>(first), 2, static_cast<char>(id >> 8), static_cast<char>(id & 0xFF)};
    stream_.out().append(b, 4);
  }

  Stream stream_;
  Sink& sink_;
  mqtt::MqttFrameParser parser_;
  mqtt::Version version_ = mqtt::Version::V311;
  bool connected_ = false;
  mqtt::Publish publish_;
  std::vector<std::string> filters_;  // as subscribed, to unroute on close
};

class Sink {
 public:
  explicit Sink(const Options& o) : o_(o), progress_(Progress::wanted(o.quiet, o.json_path)) {
    uv_loop_init(&loop_);
    io_ = std::make_unique<Io>(&loop_);
  }

  int run(Result& r);
  void count_publish() {
    last_ms_ = uv_now(&loop_);
    if (received_ == 0) first_ms_ = last_ms_;
    ++received_;
  }
  void subscribe(SinkConn* c, std::string_view filter);
  void unroute(SinkConn* c);
  void forward(const mqtt::Publish& p);
  void conn_closed() {
    ++closed_;
    if (stopping_ && closed_ == conns_.size()) close_handles();
  }

 private:
  static void on_connection(uv_stream_t* server, int status);
  static void on_flush(uv_check_t* h) { static_cast<Sink*>(h->data)->io_->flush(); }
  static void on_flush2(uv_prepare_t* h) { static_cast<Sink*>(h->data)->io_->flush(); }
  static void on_tick(uv_timer_t* h) { static_cast<Sink*>(h->data)->tick(); }
  static void on_stop_timer(uv_timer_t* h) { static_cast<Sink*>(h->data)->stop(); }
  static void on_signal(uv_signal_t* h, int) { static_cast<Sink*>(h->data)->stop(); }
  void tick();
  void stop();
  void close_handles();

  Options o_;
  Progress progress_;
  uv_loop_t loop_{};
  std::unique_ptr<Io> io_;
  uv_tcp_t server_{};
  uv_check_t check_{};
  uv_prepare_t prepare_{};
  uv_timer_t tick_{}, stop_timer_{};
  uv_signal_t sigint_{}, sigterm_{};
  std::vector<std::unique_ptr<SinkConn>> conns_;
  // Exact-topic routes for the reflection (see sink.h).
  struct Group {
    std::string name;
    std::vector<SinkConn*> members;
    std::size_t next = 0;
  };
  struct Route {
    std::vector<SinkConn*> plain;
    std::vector<Group> groups;
  };
  std::unordered_map<std::string, Route> routes_;
  std::string key_, fwd_[2];  // scratch: lookup key, forwarded packet for v3.1.1 / v5
  std::uint64_t last_forwarded_ = 0, forwarded_ = 0, dropped_ = 0, ignored_filters_ = 0;
  std::size_t closed_ = 0;
  bool stopping_ = false, handles_closed_ = false;
  std::uint64_t received_ = 0, last_received_ = 0, first_ms_ = 0, last_ms_ = 0;
  double peak_ = 0;
};

std::size_t SinkConn::on_data(Bytes data) {
  std::size_t used = 0;
  mqtt::Frame f;
  mqtt::Status st;
  while (used < data.size()) {
    const mqtt::FrameResult r = parser_.next(data.subspan(used), f, st);
    if (r == mqtt::FrameResult::NeedMore) break;
    if (r == mqtt::FrameResult::Error || !handle(f)) {
      stream_.close();
      return data.size();
    }
    used += f.total_size;
  }
  return used;
}

bool SinkConn::handle(const mqtt::Frame& f) {
  switch (f.type) {
    case PacketType::Connect: {
      mqtt::Connect c;
      if (connected_ || !mqtt::decode_connect(f, c).ok()) return false;
      version_ = c.version;
      connected_ = true;
      mqtt::encode_connack(version_, mqtt::Connack{}, stream_.out());
      return true;
    }
    case PacketType::Publish: {
      sink_.count_publish();
      if (!mqtt::decode_publish(f, version_, publish_).ok()) return false;
      if (publish_.qos == 1) ack(0x40, publish_.packet_id);  // PUBACK
      if (publish_.qos == 2) ack(0x50, publish_.packet_id);  // PUBREC
      sink_.forward(publish_);
      return true;
    }
    case PacketType::Pubrel: {
      if (f.body.size() < 2) return false;
      ack(0x70, static_cast<std::uint16_t>(f.body[0] << 8 | f.body[1]));  // PUBCOMP
      return true;
    }
    case PacketType::Puback:
    case PacketType::Pubcomp:
      return true;
    case PacketType::Pubrec: {
      if (f.body.size() < 2) return false;
      ack(0x62, static_cast<std::uint16_t>(f.body[0] << 8 | f.body[1]));  // PUBREL
      return true;
    }
    case PacketType::Subscribe: {
      mqtt::Subscribe s;
      if (!mqtt::decode_subscribe(f, version_, s).ok()) return false;
      mqtt::SubAck a;
      a.type = PacketType::Suback;
      a.packet_id = s.packet_id;
      for (const auto& t : s.topics) {
        a.codes.push_back(t.qos);
        sink_.subscribe(this, t.filter);
      }
      mqtt::encode_suback(version_, a, stream_.out());
      return true;
    }
    case PacketType::Unsubscribe: {
      mqtt::Unsubscribe u;
      if (!mqtt::decode_unsubscribe(f, version_, u).ok()) return false;
      mqtt::SubAck a;
      a.type = PacketType::Unsuback;
      a.packet_id = u.packet_id;
      if (version_ == mqtt::Version::V5) a.codes.assign(u.filters.size(), 0);
      mqtt::encode_suback(version_, a, stream_.out());
      return true;
    }
    case PacketType::Pingreq:
      mqtt::encode_pingresp(stream_.out());
      return true;
    case PacketType::Disconnect:
      stream_.close_after_flush();
      return true;
    default:
      return false;
  }
}

void SinkConn::on_closed() {
  sink_.unroute(this);
  sink_.conn_closed();
}

void Sink::subscribe(SinkConn* c, std::string_view filter) {
  std::string topic(filter);
  std::string group;
  if (filter.rfind("$share/", 0) == 0) {
    const auto slash = filter.find('/', 7);
    if (slash == std::string_view::npos) return;
    group = std::string(filter.substr(7, slash - 7));
    topic = std::string(filter.substr(slash + 1));
  } else if (filter.rfind("$queue/", 0) == 0) {
    group = "$queue";
  }
  if (topic.find_first_of("+#") != std::string::npos) {
    ++ignored_filters_;  // wildcards are granted but never matched
    return;
  }
  c->filters().push_back(std::string(filter));
  Route& r = routes_[topic];
  if (group.empty()) {
    r.plain.push_back(c);
    return;
  }
  for (Group& g : r.groups) {
    if (g.name == group) {
      g.members.push_back(c);
      return;
    }
  }
  r.groups.push_back(Group{group, {c}, 0});
}

void Sink::unroute(SinkConn* c) {
  for (const std::string& filter : c->filters()) {
    std::string_view topic = filter;
    if (topic.rfind("$share/", 0) == 0) topic = topic.substr(topic.find('/', 7) + 1);
    auto it = routes_.find(std::string(topic));
    if (it == routes_.end()) continue;
    auto drop = [c](std::vector<SinkConn*>& v) { std::erase(v, c); };
    drop(it->second.plain);
    for (Group& g : it->second.groups) drop(g.members);
    std::erase_if(it->second.groups, [](const Group& g) { return g.members.empty(); });
    if (it->second.plain.empty() && it->second.groups.empty()) routes_.erase(it);
  }
  c->filters().clear();
}

void Sink::forward(const mqtt::Publish& p) {
  if (routes_.empty()) return;
  key_.assign(p.topic);
  auto it = routes_.find(key_);
  if (it == routes_.end()) return;
  fwd_[0].clear();
  fwd_[1].clear();
  auto send = [&](SinkConn* c) {
    if (c->stream().queued_bytes() > kMaxQueued) {
      ++dropped_;
      return;
    }
    const int v = c->version() == mqtt::Version::V5 ? 1 : 0;
    std::string& pkt = fwd_[v];
    if (pkt.empty()) {
      // QoS 0 copy: topic and payload, no packet id (and no properties).
      mqtt::Publish q;
      q.topic = p.topic;
      q.payload = p.payload;
      mqtt::encode_publish(v ? mqtt::Version::V5 : mqtt::Version::V311, q, pkt);
    }
    c->stream().out().append(pkt);
    ++forwarded_;
  };
  Route& r = it->second;
  for (SinkConn* c : r.plain) send(c);
  for (Group& g : r.groups) send(g.members[g.next++ % g.members.size()]);
}

void Sink::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<Sink*>(server->data);
  if (status < 0 || self->stopping_) return;
  auto c = std::make_unique<SinkConn>(*self->io_, *self);
  if (c->stream().accept(server) != 0) c->stream().close();
  self->conns_.push_back(std::move(c));
}

int Sink::run(Result& r) {
  r.options = o_;
  r.description = "discard server";
  sockaddr_storage addr{};
  if (o_.ipv6) {
    uv_ip6_addr(o_.host.c_str(), o_.port, reinterpret_cast<sockaddr_in6*>(&addr));
  } else {
    uv_ip4_addr(o_.host.c_str(), o_.port, reinterpret_cast<sockaddr_in*>(&addr));
  }
  uv_tcp_init(&loop_, &server_);
  server_.data = this;
  int rc = uv_tcp_bind(&server_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&server_), 4096, &Sink::on_connection);
  if (rc != 0) {
    r.error = "sink: cannot listen on " + o_.host + ":" + std::to_string(o_.port) + ": " + uv_strerror(rc);
    uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    return 1;
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(&server_, reinterpret_cast<sockaddr*>(&bound), &len);
  const int port = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);  // same offset for v6
  r.options.port = static_cast<std::uint16_t>(port);
  std::fprintf(stderr, "sink: listening on %s:%d\n", o_.host.c_str(), port);
  std::fflush(stderr);

  check_.data = prepare_.data = tick_.data = stop_timer_.data = sigint_.data = sigterm_.data = this;
  uv_check_init(&loop_, &check_);
  uv_check_start(&check_, &Sink::on_flush);
  uv_prepare_init(&loop_, &prepare_);
  uv_prepare_start(&prepare_, &Sink::on_flush2);
  uv_timer_init(&loop_, &tick_);
  uv_timer_start(&tick_, &Sink::on_tick, 1000, 1000);
  uv_timer_init(&loop_, &stop_timer_);
  if (o_.duration_given && o_.duration_s > 0)
    uv_timer_start(&stop_timer_, &Sink::on_stop_timer, static_cast<std::uint64_t>(o_.duration_s * 1000), 0);
  uv_signal_init(&loop_, &sigint_);
  uv_signal_start(&sigint_, &Sink::on_signal, SIGINT);
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_start(&sigterm_, &Sink::on_signal, SIGTERM);

  uv_run(&loop_, UV_RUN_DEFAULT);
  progress_.finish();
  if (uv_loop_close(&loop_) != 0) r.error = "internal: the loop closed with handles open";
  r.sink_connections = conns_.size();
  conns_.clear();
  r.sink_publishes = received_;
  r.sink_forwarded = forwarded_;
  r.sink_dropped = dropped_;
  r.sink_peak_per_s = peak_;
  // From the first to the last publish received (loop time, ms resolution).
  r.measured_s = received_ ? static_cast<double>(last_ms_ - first_ms_) / 1e3 : 0;
  return r.error.empty() ? 0 : 1;
}

void Sink::tick() {
  const double rate = static_cast<double>(received_ - last_received_);
  last_received_ = received_;
  if (rate > peak_) peak_ = rate;
  std::size_t open = conns_.size() - closed_;
  const double fwd = static_cast<double>(forwarded_ - last_forwarded_);
  last_forwarded_ = forwarded_;
  progress_.update("sink  " + std::to_string(open) + " connections  " + short_rate(rate) + " publishes/s  peak " +
                   short_rate(peak_) + "/s  reflected " + short_rate(fwd) + "/s");
}

void Sink::stop() {
  if (stopping_) {
    for (auto& c : conns_) c->stream().close();
    return;
  }
  stopping_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
  for (auto& c : conns_) c->stream().close();
  if (closed_ == conns_.size()) close_handles();
}

void Sink::close_handles() {
  if (handles_closed_) return;
  handles_closed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
}

}  // namespace

int run_sink(const Options& o, Result& r) {
  Sink s(o);
  return s.run(r);
}

}  // namespace junction::bench
