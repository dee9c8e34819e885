// AuthService: core::authenticate decisions and reload (bad file keeps the
// old rules; removed users and changed passwords are no longer valid).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "auth_file_error.h"
#include "auth_service.h"

using namespace junction;
using namespace junction::auth;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/junction-auth-svc-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

core::AuthResult login(core::AccessControl* ac, const char* user, const char* pass, bool anonymous_ok = false,
                       core::ConnectionInfo info = {}) {
  std::string_view u = user ? user : "";
  std::span<const std::uint8_t> p = pass ? as_bytes(pass) : std::span<const std::uint8_t>();
  core::Credentials c;
  c.user = user ? &u : nullptr;
  c.password = pass ? &p : nullptr;
  c.client_id = "cid";
  return core::authenticate(ac, c, info, anonymous_ok);
}

}  // namespace

TEST_CASE("authenticate: anonymous, certificate identity, password file", "[auth][service]") {
  TempDir dir;
  PasswordFile pw;
  pw.set("alice", "secret");
  pw.save((dir.path / "pw").string());
  AuthService svc({(dir.path / "pw").string(), ""});
  CHECK_FALSE(svc.has_acl());

  CHECK(login(&svc, "alice", "secret").status == core::AuthStatus::Ok);
  CHECK(login(&svc, "alice", "secret").identity.user == "alice");
  CHECK(login(&svc, "alice", "wrong").status == core::AuthStatus::BadCredentials);
  CHECK(login(&svc, "nobody", "secret").status == core::AuthStatus::BadCredentials);
  CHECK(login(&svc, "alice", nullptr).status == core::AuthStatus::BadCredentials);
  CHECK(login(&svc, nullptr, "secret").status == core::AuthStatus::BadCredentials);
  CHECK(login(&svc, nullptr, nullptr, false).status == core::AuthStatus::NotAuthorized);
  const core::AuthResult a = login(&svc, nullptr, nullptr, true);
  CHECK(a.status == core::AuthStatus::Ok);
  CHECK(a.identity.anonymous);

  core::ConnectionInfo tls;
  tls.identity_is_username = true;
  CHECK(login(&svc, "alice", "wrong", false, tls).status == core::AuthStatus::NotAuthorized);  // no certificate
  tls.cert_identity = "device-42";
  const core::AuthResult c = login(&svc, nullptr, nullptr, false, tls);
  CHECK(c.status == core::AuthStatus::Ok);
  CHECK(c.identity.user == "device-42");
  CHECK(c.identity.from_certificate);

  // No AccessControl at all: any user name is accepted, anonymous per listener.
  CHECK(login(nullptr, "who", "ever").status == core::AuthStatus::Ok);
  CHECK(login(nullptr, nullptr, nullptr, false).status == core::AuthStatus::NotAuthorized);
}

TEST_CASE("reload: new rules, bad files keep the old ones, revoked identities", "[auth][service]") {
  TempDir dir;
  const fs::path pwf = dir.path / "pw", aclf = dir.path / "acl";
  PasswordFile pw;
  pw.set("alice", "a");
  pw.set("bob", "b");
  pw.save(pwf.string());
  write(aclf, "user alice\ntopic readwrite a/#\n");
  AuthService svc({pwf.string(), aclf.string()});
  CHECK(svc.has_acl());
  const core::ClientIdentity alice = login(&svc, "alice", "a").identity;
  const core::ClientIdentity bob = login(&svc, "bob", "b").identity;
  const core::Principal who = alice.principal("c");
  CHECK(svc.allowed(who, "a/1", core::Access::Write));
  const std::uint64_t g1 = svc.generation();

  write(aclf, "user alice\ntopic read a/#\n");
  REQUIRE_FALSE(svc.reload());
  CHECK(svc.generation() != g1);
  CHECK_FALSE(svc.allowed(who, "a/1", core::Access::Write));
  CHECK(svc.allowed(who, "a/1", core::Access::Read));

  const std::uint64_t g2 = svc.generation();
  write(aclf, "user alice\ntopic bogus a/#\n");
  const auto err = svc.reload();
  REQUIRE(err);
  CHECK(err->find(aclf.string() + ":2: unknown access 'bogus'") == 0);
  CHECK(svc.generation() == g2);
  CHECK(svc.allowed(who, "a/1", core::Access::Read));  // old rules kept

  CHECK(svc.still_valid(alice));
  CHECK(svc.still_valid(bob));
  pw.remove("bob");
  pw.set("alice", "new");
  pw.save(pwf.string());
  write(aclf, "user alice\ntopic read a/#\n");
  REQUIRE_FALSE(svc.reload());
  CHECK_FALSE(svc.still_valid(bob));    // removed
  CHECK_FALSE(svc.still_valid(alice));  // password changed
  CHECK(svc.still_valid(login(&svc, "alice", "new").identity));
  core::ClientIdentity anonymous;
  CHECK(svc.still_valid(anonymous));

  CHECK_THROWS_AS(AuthService({(dir.path / "missing").string(), ""}), AuthFileError);
}
