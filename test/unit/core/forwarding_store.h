// A store for core tests that does what the memory store does, so that a
// test can override one thing (what space() reports, what submit() sees)
// and keep the rest real.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mem_store.h"

namespace junction::test {

class ForwardingStore : public store::Store {
 public:
  void scan(store::Table t, const std::function<void(std::string_view, std::string_view)>& v) override {
    mem_.scan(t, v);
  }
  std::size_t scan_from(store::Table t, std::string_view from, std::size_t limit,
                        const std::function<void(std::string_view, std::string_view)>& v) override {
    return mem_.scan_from(t, from, limit, v);
  }
  bool get(store::Table t, std::string_view k, std::string& v) override { return mem_.get(t, k, v); }
  bool last_key(store::Table t, std::string& k) override { return mem_.last_key(t, k); }
  void submit(store::Batch&& b, std::uint64_t seq) override { mem_.submit(std::move(b), seq); }
  void take_completed(std::vector<store::CommitResult>& out) override { mem_.take_completed(out); }
  void set_notifier(std::function<void()> wake) override { mem_.set_notifier(std::move(wake)); }
  void flush() override {}
  bool completes_inline() const override { return true; }
  const char* name() const override { return "forwarding-test"; }

 private:
  store::MemStore mem_;
};

}  // namespace junction::test
