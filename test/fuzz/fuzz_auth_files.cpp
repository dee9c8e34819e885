// libFuzzer target for the password-file and ACL-file parsers (gateway/auth).
//
// The input is taken as the text of each file. A password file either parses
// or throws AuthFileError with a "FILE:LINE: " message; a parsed file must
// serialize and parse back to the same users. An ACL either parses or throws
// AuthFileError; a parsed ACL is then asked read/write/subscribe questions
// about topics and filters cut from the input (with and without a user, with
// wildcards in the names), which must not crash, and a Whole filter must
// agree with the per-topic answer for its literal topics. Any mismatch aborts.
//
// Build: test/fuzz/build.sh (links gateway/auth, core/topic.cpp, -lmbedcrypto)
// Seeds: test/fuzz/corpus/auth/
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "acl_file.h"
#include "auth_file_error.h"
#include "password_file.h"
#include "topic.h"

using namespace junction;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_auth_files: %s\n", what);
    std::abort();
  }
}

void fuzz_passwords(std::string_view text) {
  auth::PasswordFile f;
  try {
    f = auth::PasswordFile::parse(text, "pw");
  } catch (const auth::AuthFileError& e) {
    check(std::string_view(e.what()).substr(0, 3) == "pw:", "password error without FILE:LINE");
    return;
  }
  const auth::PasswordFile again = auth::PasswordFile::parse(f.serialize(), "pw2");
  check(again.size() == f.size(), "password file round trip changed the user count");
}

void fuzz_acl(std::string_view text) {
  auth::AclFile acl;
  try {
    acl = auth::AclFile::parse(text, "acl");
  } catch (const auth::AuthFileError& e) {
    check(std::string_view(e.what()).substr(0, 4) == "acl:", "ACL error without FILE:LINE");
    return;
  }
  // Probe with every line of the input as topic / filter / user name.
  std::size_t pos = 0;
  int probes = 0;
  while (pos < text.size() && probes < 64) {
    std::size_t nl = text.find('\n', pos);
    std::string_view piece = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++probes;
    const core::Principal who[] = {{piece, false, "c"}, {{}, true, piece}, {"alice", false, "c+1"}};
    for (const core::Principal& p : who) {
      if (core::valid_topic_name(piece)) {
        (void)acl.allowed(p, piece, core::Access::Read);
        (void)acl.allowed(p, piece, core::Access::Write);
      }
      if (core::valid_topic_filter(piece)) {
        const core::FilterAccess fa = acl.subscribe_access(p, piece);
        if (fa == core::FilterAccess::Whole && core::valid_topic_name(piece)) {
          check(acl.allowed(p, piece, core::Access::Read), "Whole filter but its topic is not readable");
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 1 << 16) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz_passwords(text);
  fuzz_acl(text);
  return 0;
}
