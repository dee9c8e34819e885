// ReadHold: overlapping reasons to stop reading; the sink hears only the
// first hold and the last release.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "read_hold.h"

using junction::core::ConnectionInfo;
using junction::core::ConnectionSink;
using junction::core::ReadHold;

namespace {

struct PauseLog final : ConnectionSink {
  std::vector<bool> calls;  // each pause_reading(paused)
  ConnectionInfo info_;
  void write(std::string_view) override {}
  std::size_t queued_bytes() const override { return 0; }
  void close_after_flush() override {}
  void abort() override {}
  void pause_reading(bool paused) override { calls.push_back(paused); }
  const ConnectionInfo& info() const override { return info_; }
};

}  // namespace

TEST_CASE("read hold: one reason pauses and resumes once, repeats are no-ops", "[core][limits]") {
  PauseLog sink;
  ReadHold h;
  CHECK_FALSE(h.any());
  h.release(ReadHold::Answers, sink);  // not held: nothing to resume
  CHECK(sink.calls.empty());
  h.hold(ReadHold::Answers, sink);
  h.hold(ReadHold::Answers, sink);
  CHECK(h.held(ReadHold::Answers));
  CHECK_FALSE(h.held(ReadHold::PublishRate));
  CHECK(sink.calls == std::vector<bool>{true});
  h.release(ReadHold::Answers, sink);
  h.release(ReadHold::Answers, sink);
  CHECK_FALSE(h.any());
  CHECK(sink.calls == std::vector<bool>{true, false});
}

TEST_CASE("read hold: reading resumes only when the last of two reasons is lifted", "[core][limits]") {
  for (bool answers_first : {true, false}) {
    CAPTURE(answers_first);
    PauseLog sink;
    ReadHold h;
    h.hold(ReadHold::Answers, sink);
    h.hold(ReadHold::PublishRate, sink);
    CHECK(sink.calls == std::vector<bool>{true});
    h.release(answers_first ? ReadHold::Answers : ReadHold::PublishRate, sink);
    CHECK(h.any());
    CHECK(sink.calls == std::vector<bool>{true});  // the other reason still holds
    h.release(answers_first ? ReadHold::PublishRate : ReadHold::Answers, sink);
    CHECK_FALSE(h.any());
    CHECK(sink.calls == std::vector<bool>{true, false});
  }
}
