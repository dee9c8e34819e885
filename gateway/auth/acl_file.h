// junction::auth::AclFile — Mosquitto's ACL file (acl_file), parsed and
// evaluated the way Mosquitto 2.0 does.
//
// Syntax (one statement per line; '#' starts a comment line):
//   topic [read|write|readwrite|deny] <topic>   access defaults to readwrite
//   user <name>                                 following `topic` lines are this user's
//   pattern [read|write|readwrite|deny] <topic> applies to every client; %u and %c are
//                                               replaced by the user name and client id
// `topic` lines before the first `user` line apply to anonymous clients.
//
// Evaluation of (principal, topic, read|write), as Mosquitto's default ACL check:
//  1. the principal's own rules (its `user` section, or the anonymous
//     section): deny rules first, then the others in file order; the first
//     rule whose topic filter matches decides: deny -> refused, a rule
//     granting the access -> allowed, otherwise go on;
//  2. then the patterns, in the same order; a pattern with %u never applies
//     to an anonymous client. If the user name or client id contains '+' or
//     '#' no pattern applies and the answer is "refused";
//  3. nothing decided -> refused.
// Filters follow MQTT matching: `+` one level, `#` the rest (and the parent),
// and a topic starting with '$' is matched only by a filter whose first
// level starts with '$' (so `#` does not grant `$queue/...`).
//
// SUBSCRIBE (subscribe_access) is where we depart from Mosquitto 2.0, which
// accepts every subscription and filters each message: a filter is accepted
// when, in the order above, a rule granting read covers it (every topic the
// filter matches also matches the rule, e.g. `a/#` covers `a/+/b`) before a
// deny rule covers it. Deny rules that only overlap the filter make it
// Partial: accepted, and each message is checked on delivery. This is
// Mosquitto 2.1's sub_matches_acl notion of a subscription inside an ACL.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access_control.h"

namespace junction::auth {

class AclFile {
 public:
  // Throws AuthFileError ("FILE:LINE: ...").
  static AclFile parse(std::string_view text, const std::string& source);
  static AclFile load(const std::string& path);

  bool allowed(const core::Principal& who, std::string_view topic, core::Access a) const;
  // The same walk, telling "a rule refused" from "no rule decided" (step 3),
  // for a chain in which later members may decide (gateway/plugin_host).
  // Read and Write only.
  enum class Decision : std::uint8_t { Allow, Deny, Undecided };
  Decision decide(const core::Principal& who, std::string_view topic, core::Access a) const;
  core::FilterAccess subscribe_access(const core::Principal& who, std::string_view filter) const;

  std::size_t rule_count() const;

 private:
  enum : std::uint8_t { kDeny = 0, kRead = 1, kWrite = 2 };
  struct Rule {
    std::string topic;
    std::uint8_t access = kRead | kWrite;
    bool has_u = false;  // patterns: contains %u
    bool has_c = false;
    int line = 0;
  };
  struct Section {
    std::vector<Rule> rules;  // deny rules first, then the rest in file order
    void add(Rule r);
  };

  const Section* section_for(const core::Principal& who) const;
  // Walks the rules in evaluation order, calling visit(rule, effective topic);
  // visit returns true to stop. Returns false if it stopped because the
  // names are unsafe for patterns (see header comment, step 2).
  template <typename Visit>
  bool walk(const core::Principal& who, Visit&& visit) const;

  // Lookup by string_view without building a std::string (publish path).
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  Section anonymous_;
  std::unordered_map<std::string, Section, NameHash, std::equal_to<>> users_;
  Section patterns_;
};

// MQTT filter relations (exposed for tests). `filter` and `acl` are valid filters.
bool topic_matches(std::string_view acl, std::string_view topic);
bool filter_covers(std::string_view acl, std::string_view filter);    // every topic of filter matches acl
bool filter_overlaps(std::string_view acl, std::string_view filter);  // some topic matches both

}  // namespace junction::auth
