// AclFile: parsing (errors name file and line) and the decision tables for
// read / write / subscribe, matching Mosquitto 2.0's acl_file semantics.
#include <catch2/catch.hpp>
#include <string>

#include "acl_file.h"
#include "auth_file_error.h"

using namespace junction;
using namespace junction::auth;
using core::Access;
using core::FilterAccess;

namespace {

core::Principal user(std::string_view name, std::string_view client = "c1") { return {name, false, client}; }
core::Principal anon(std::string_view client = "c1") { return {{}, true, client}; }

std::string error_of(std::string_view text) {
  try {
    AclFile::parse(text, "acl.txt");
  } catch (const AuthFileError& e) {
    return e.what();
  }
  return "";
}

const char* const kAcl = R"(# anonymous clients
topic read public/#
topic public/chat

user alice
topic readwrite alice/#
topic read shared/#
topic deny shared/secret/#
topic write inbox/+

user bob
topic read $SYS/#
topic write  sensors/bob temp
topic deny
topic readwrite bob/#

# everyone
pattern readwrite devices/%c/#
pattern read users/%u/#
pattern deny devices/%c/locked
)";

}  // namespace

TEST_CASE("ACL parsing errors name file and line", "[auth][acl]") {
  CHECK(error_of("topic read a\nfrobnicate x\n") ==
        "acl.txt:2: unknown statement 'frobnicate' (expected topic, user or pattern)");
  CHECK(error_of("user\n") == "acl.txt:1: 'user' needs a user name");
  CHECK(error_of("\n\ntopic\n") == "acl.txt:3: 'topic' needs a topic");
  CHECK(error_of("topic rw a/b\n") == "acl.txt:1: unknown access 'rw' (expected read, write, readwrite or deny)");
  CHECK(error_of("topic read a/#/b\n").rfind("acl.txt:1: invalid topic filter 'a/#/b'", 0) == 0);
  CHECK(error_of("pattern write a+/x\n").rfind("acl.txt:1: invalid topic filter 'a+/x'", 0) == 0);
  CHECK_THROWS_WITH(AclFile::load("/nonexistent/acl"), Catch::Contains("/nonexistent/acl: cannot open"));
  CHECK(error_of(kAcl).empty());
  CHECK(error_of("").empty());
}

TEST_CASE("ACL read/write decisions", "[auth][acl]") {
  const AclFile acl = AclFile::parse(kAcl, "acl.txt");
  struct Row {
    core::Principal who;
    const char* topic;
    Access access;
    bool allowed;
  };
  const Row rows[] = {
      // anonymous section: topics before the first user line
      {anon(), "public/news", Access::Read, true},
      {anon(), "public/news", Access::Write, false},
      {anon(), "public", Access::Read, true},  // '#' covers the parent level
      {anon(), "public/chat", Access::Write, true},  // no access word: readwrite
      {anon(), "alice/x", Access::Read, false},
      // alice: readwrite, read, deny first, write only
      {user("alice"), "alice/a/b", Access::Write, true},
      {user("alice"), "alice/a/b", Access::Read, true},
      {user("alice"), "shared/x", Access::Read, true},
      {user("alice"), "shared/x", Access::Write, false},
      {user("alice"), "shared/secret", Access::Read, false},
      {user("alice"), "shared/secret/key", Access::Read, false},
      {user("alice"), "inbox/bob", Access::Write, true},
      {user("alice"), "inbox/bob", Access::Read, false},
      {user("alice"), "inbox/bob/x", Access::Write, false},
      {user("alice"), "public/news", Access::Read, false},  // the anonymous section is not hers
      // bob: '$' topics only through '$' rules; a topic with a space; the
      // one-word line "topic deny" is a readwrite rule for the topic "deny"
      {user("bob"), "$SYS/broker/uptime", Access::Read, true},
      {user("bob"), "$SYS/broker/uptime", Access::Write, false},
      {user("bob"), "sensors/bob temp", Access::Write, true},
      {user("bob"), "sensors/bob", Access::Write, false},
      {user("bob"), "deny", Access::Write, true},
      {user("bob"), "bob/1", Access::Read, true},
      // patterns, for every client; %u only for clients with a user name
      {user("carol", "dev7"), "devices/dev7/temp", Access::Write, true},
      {user("carol", "dev7"), "devices/dev8/temp", Access::Write, false},
      {user("carol", "dev7"), "devices/dev7/locked", Access::Write, false},  // pattern deny first
      {user("carol", "dev7"), "users/carol/inbox", Access::Read, true},
      {user("carol", "dev7"), "users/carol/inbox", Access::Write, false},
      {anon("dev9"), "devices/dev9", Access::Read, true},
      {anon("dev9"), "users//x", Access::Read, false},
      {user("alice", "a1"), "devices/a1/x", Access::Read, true},  // patterns after her own rules
      // wildcards in names disable patterns (and cannot widen them)
      {user("car+ol", "dev7"), "devices/dev7/temp", Access::Write, false},
      {user("carol", "dev#"), "devices/dev#/x", Access::Write, false},
      {user("al#", "x"), "users/al#/x", Access::Read, false},
      // unknown user: only patterns
      {user("zed", "z"), "public/news", Access::Read, false},
      {user("zed", "z"), "devices/z/1", Access::Read, true},
  };
  for (const Row& r : rows) {
    INFO("user '" << r.who.user << "' (anonymous " << r.who.anonymous << ", client " << r.who.client_id << ") "
                  << (r.access == Access::Read ? "read " : "write ") << r.topic);
    CHECK(acl.allowed(r.who, r.topic, r.access) == r.allowed);
  }
}

TEST_CASE("ACL subscribe decisions: covered, partial, denied", "[auth][acl]") {
  const AclFile acl = AclFile::parse(kAcl, "acl.txt");
  struct Row {
    core::Principal who;
    const char* filter;
    FilterAccess expected;
  };
  const Row rows[] = {
      {anon(), "public/#", FilterAccess::Whole},
      {anon(), "public/+/x", FilterAccess::Whole},
      {anon(), "#", FilterAccess::Denied},  // wider than any read rule
      {anon(), "public", FilterAccess::Whole},
      {user("alice"), "alice/#", FilterAccess::Whole},
      {user("alice"), "shared/#", FilterAccess::Partial},  // a deny inside: per-message checks
      {user("alice"), "shared/+", FilterAccess::Partial},  // "shared/secret" is denied
      {user("alice"), "shared/x/+", FilterAccess::Whole},
      {user("alice"), "shared/secret/#", FilterAccess::Denied},
      {user("alice"), "inbox/+", FilterAccess::Denied},  // write only
      {user("alice"), "+/x", FilterAccess::Denied},
      {user("bob"), "$SYS/#", FilterAccess::Whole},
      {user("bob"), "#", FilterAccess::Denied},
      {user("carol", "d1"), "devices/d1/#", FilterAccess::Partial},  // devices/d1/locked denied
      {user("carol", "d1"), "devices/d1/temp", FilterAccess::Whole},
      {user("carol", "d1"), "devices/d1/locked", FilterAccess::Denied},
      {user("carol", "d1"), "devices/+/temp", FilterAccess::Denied},
      {user("carol", "d1"), "users/carol/+", FilterAccess::Whole},
  };
  for (const Row& r : rows) {
    INFO("user '" << r.who.user << "' subscribe " << r.filter);
    CHECK(acl.subscribe_access(r.who, r.filter) == r.expected);
    CHECK(acl.allowed(r.who, r.filter, Access::Subscribe) == (r.expected != FilterAccess::Denied));
  }
}

TEST_CASE("an empty ACL denies everything; queues are $ topics", "[auth][acl]") {
  const AclFile empty = AclFile::parse("# nothing\n", "acl.txt");
  CHECK_FALSE(empty.allowed(anon(), "a", Access::Read));
  CHECK_FALSE(empty.allowed(user("u"), "a", Access::Write));
  CHECK(empty.subscribe_access(user("u"), "a") == FilterAccess::Denied);

  const AclFile acl = AclFile::parse("user u\ntopic readwrite #\ntopic read $queue/jobs\n", "acl.txt");
  CHECK(acl.allowed(user("u"), "a/b", Access::Write));
  CHECK_FALSE(acl.allowed(user("u"), "$queue/orders", Access::Write));  // '#' does not reach '$' topics
  CHECK(acl.allowed(user("u"), "$queue/jobs", Access::Read));
  CHECK_FALSE(acl.allowed(user("u"), "$queue/jobs", Access::Write));
  CHECK(acl.subscribe_access(user("u"), "#") == FilterAccess::Whole);
}

TEST_CASE("filter relations", "[auth][acl]") {
  CHECK(topic_matches("a/+/c", "a/b/c"));
  CHECK(topic_matches("a/+", "a/"));
  CHECK_FALSE(topic_matches("a/+", "a"));
  CHECK(topic_matches("a/#", "a"));
  CHECK(topic_matches("#", "a/b"));
  CHECK_FALSE(topic_matches("#", "$SYS/x"));
  CHECK_FALSE(topic_matches("+/x", "$SYS/x"));
  CHECK(topic_matches("$SYS/#", "$SYS/x"));
  CHECK_FALSE(topic_matches("a/b", "a/b/c"));

  CHECK(filter_covers("a/#", "a/+/b"));
  CHECK(filter_covers("a/#", "a/#"));
  CHECK(filter_covers("a/+", "a/+"));
  CHECK_FALSE(filter_covers("a/+", "a/#"));
  CHECK_FALSE(filter_covers("a/b", "a/+"));
  CHECK(filter_covers("+/+", "x/y"));
  CHECK_FALSE(filter_covers("a/b", "a/b/#"));
  CHECK(filter_covers("a/b/#", "a/b"));
  CHECK_FALSE(filter_covers("#", "$SYS/#"));

  CHECK(filter_overlaps("a/b", "a/+"));
  CHECK(filter_overlaps("a/#", "+/b"));
  CHECK(filter_overlaps("a/b/c", "#"));
  CHECK_FALSE(filter_overlaps("a/b", "a/c"));
  CHECK_FALSE(filter_overlaps("a/+/c", "a/b"));
  CHECK_FALSE(filter_overlaps("$SYS/x", "#"));
  CHECK(filter_overlaps("a", "a/#"));
}
