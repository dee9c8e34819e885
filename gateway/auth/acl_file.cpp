#include "acl_file.h"

#include "auth_file_error.h"
#include "topic.h"

namespace junction::auth {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Next level of a topic or filter; `rest` is advanced past it (and its '/').
// `done` is set once the last level was returned.
struct Levels {
  std::string_view rest;
  bool done = false;
  bool next(std::string_view& level) {
    if (done) return false;
    const std::size_t p = rest.find('/');
    if (p == std::string_view::npos) {
      level = rest;
      done = true;
    } else {
      level = rest.substr(0, p);
      rest.remove_prefix(p + 1);
    }
    return true;
  }
};

bool dollar_mismatch(std::string_view a, std::string_view b) {
  const bool ad = !a.empty() && a.front() == '$';
  const bool bd = !b.empty() && b.front() == '$';
  return ad != bd;
}

// Mosquitto 2.0: %c and %u are replaced wherever they appear.
void substitute(std::string_view pattern, const core::Principal& who, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size()) {
      if (pattern[i + 1] == 'c') {
        out.append(who.client_id);
        ++i;
        continue;
      }
      if (pattern[i + 1] == 'u' && !who.anonymous) {
        out.append(who.user);
        ++i;
        continue;
      }
    }
    out.push_back(pattern[i]);
  }
}

bool has_wildcard(std::string_view s) { return s.find_first_of("+#") != std::string_view::npos; }

}  // namespace

bool topic_matches(std::string_view acl, std::string_view topic) {
  if (acl.empty() || topic.empty() || dollar_mismatch(acl, topic)) return false;
  Levels a{acl}, t{topic};
  std::string_view al, tl;
  for (;;) {
    const bool ha = a.next(al);
    const bool ht = t.next(tl);
    if (!ha) return !ht;
    if (al == "#") return true;  // also the parent: "a/#" matches "a"
    if (!ht) return false;
    if (al != "+" && al != tl) return false;
  }
}

bool filter_covers(std::string_view acl, std::string_view filter) {
  if (acl.empty() || filter.empty() || dollar_mismatch(acl, filter)) return false;
  Levels a{acl}, f{filter};
  std::string_view al, fl;
  for (;;) {
    const bool ha = a.next(al);
    const bool hf = f.next(fl);
    if (!ha) return !hf;
    if (al == "#") return true;
    if (!hf) return false;
    if (fl == "#") return false;          // the filter reaches deeper than the rule
    if (al == "+") continue;              // any single level, '+' included
    if (fl == "+" || al != fl) return false;
  }
}

bool filter_overlaps(std::string_view acl, std::string_view filter) {
  if (acl.empty() || filter.empty() || dollar_mismatch(acl, filter)) return false;
  Levels a{acl}, f{filter};
  std::string_view al, fl;
  for (;;) {
    const bool ha = a.next(al);
    const bool hf = f.next(fl);
    if (!ha && !hf) return true;
    if (ha && al == "#") return true;
    if (hf && fl == "#") return true;
    if (!ha || !hf) return false;
    if (al != "+" && fl != "+" && al != fl) return false;
  }
}

void AclFile::Section::add(Rule r) {
  if (r.access == kDeny) {
    // Denies are consulted first, like Mosquitto's list where they go to the front.
    std::size_t i = 0;
    while (i < rules.size() && rules[i].access == kDeny) ++i;
    rules.insert(rules.begin() + std::ptrdiff_t(i), std::move(r));
  } else {
    rules.push_back(std::move(r));
  }
}

AclFile AclFile::parse(std::string_view text, const std::string& source) {
  AclFile acl;
  Section* current = &acl.anonymous_;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t sp = line.find_first_of(" \t");
    const std::string_view keyword = line.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? std::string_view() : trim(line.substr(sp));
    if (keyword == "user") {
      if (rest.empty()) fail_at(source, line_no, "'user' needs a user name");
      auto it = acl.users_.find(rest);
      if (it == acl.users_.end()) it = acl.users_.emplace(std::string(rest), Section{}).first;
      current = &it->second;
      continue;
    }
    if (keyword != "topic" && keyword != "pattern") {
      fail_at(source, line_no, "unknown statement '" + std::string(keyword) + "' (expected topic, user or pattern)");
    }
    if (rest.empty()) fail_at(source, line_no, "'" + std::string(keyword) + "' needs a topic");
    Rule r;
    r.line = line_no;
    // Like Mosquitto: with one word it is the topic (readwrite); with more,
    // the first word is the access and the rest is the topic.
    const std::size_t sp2 = rest.find_first_of(" \t");
    if (sp2 == std::string_view::npos) {
      r.topic.assign(rest);
    } else {
      const std::string_view access = rest.substr(0, sp2);
      if (access == "read") r.access = kRead;
      else if (access == "write") r.access = kWrite;
      else if (access == "readwrite") r.access = kRead | kWrite;
      else if (access == "deny") r.access = kDeny;
      else
        fail_at(source, line_no,
                "unknown access '" + std::string(access) + "' (expected read, write, readwrite or deny)");
      r.topic.assign(trim(rest.substr(sp2)));
    }
    if (!core::valid_topic_filter(r.topic))
      fail_at(source, line_no, "invalid topic filter '" + r.topic + "' ('+' and '#' must be whole levels, '#' last)");
    if (keyword == "pattern") {
      r.has_u = r.topic.find("%u") != std::string::npos;
      r.has_c = r.topic.find("%c") != std::string::npos;
      acl.patterns_.add(std::move(r));
    } else {
      current->add(std::move(r));
    }
  }
  return acl;
}

AclFile AclFile::load(const std::string& path) { return parse(read_text_file(path), path); }

std::size_t AclFile::rule_count() const {
  std::size_t n = anonymous_.rules.size() + patterns_.rules.size();
  for (const auto& [u, s] : users_) n += s.rules.size();
  return n;
}

const AclFile::Section* AclFile::section_for(const core::Principal& who) const {
  if (who.anonymous) return &anonymous_;
  auto it = users_.find(who.user);
  return it == users_.end() ? nullptr : &it->second;
}

template <typename Visit>
bool AclFile::walk(const core::Principal& who, Visit&& visit) const {
  if (const Section* own = section_for(who)) {
    for (const Rule& r : own->rules)
      if (visit(r, std::string_view(r.topic))) return true;
  }
  if (patterns_.rules.empty()) return true;
  // A user name or client id with a wildcard could widen a pattern to other
  // clients' topics: such clients get nothing from patterns (as Mosquitto).
  if ((!who.anonymous && has_wildcard(who.user)) || has_wildcard(who.client_id)) return false;
  // Loop thread only: one buffer, so a warm check allocates nothing.
  static std::string effective;
  for (const Rule& r : patterns_.rules) {
    if (r.has_u && who.anonymous) continue;
    if (r.has_u || r.has_c) {
      substitute(r.topic, who, effective);
      if (visit(r, std::string_view(effective))) return true;
    } else if (visit(r, std::string_view(r.topic))) {
      return true;
    }
  }
  return true;
}

bool AclFile::allowed(const core::Principal& who, std::string_view topic, core::Access a) const {
  if (a == core::Access::Subscribe) return subscribe_access(who, topic) != core::FilterAccess::Denied;
  return decide(who, topic, a) == Decision::Allow;
}

AclFile::Decision AclFile::decide(const core::Principal& who, std::string_view topic, core::Access a) const {
  const std::uint8_t want = a == core::Access::Read ? kRead : kWrite;
  bool decided = false, ok = false;
  const bool safe = walk(who, [&](const Rule& r, std::string_view t) {
    if (!topic_matches(t, topic)) return false;
    if (r.access == kDeny) {
      decided = true;
      return true;
    }
    if (r.access & want) {
      decided = ok = true;
      return true;
    }
    return false;
  });
  if (!decided) return safe ? Decision::Undecided : Decision::Deny;
  return ok ? Decision::Allow : Decision::Deny;
}

core::FilterAccess AclFile::subscribe_access(const core::Principal& who, std::string_view filter) const {
  core::FilterAccess result = core::FilterAccess::Denied;
  bool partial = false;
  walk(who, [&](const Rule& r, std::string_view t) {
    if (r.access == kDeny) {
      if (filter_covers(t, filter)) {
        result = core::FilterAccess::Denied;
        return true;
      }
      partial |= filter_overlaps(t, filter);
      return false;
    }
    if ((r.access & kRead) && filter_covers(t, filter)) {
      result = partial ? core::FilterAccess::Partial : core::FilterAccess::Whole;
      return true;
    }
    return false;
  });
  return result;
}

}  // namespace junction::auth
