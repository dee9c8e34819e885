#!/usr/bin/python3
"""Module rules: who may include whom (docs/ARCHITECTURE.md, "Boxes").

The meson boxes already make most wrong-way includes fail to compile; this
check states the two rules that matter most outright, for every file, and
names the offending line:

  gateway/core/  is protocol-neutral and I/O-free: no libuv (uv.h), LMDB
                 (lmdb.h), mbedTLS (mbedtls/..., psa/...), wslay, expat or
                 yaml-cpp header, no header that lives under protocols/ and
                 no header of gateway/net/.
  protocols/     may include from gateway/net/ only the headers listed in
                 PROTOCOLS_MAY_INCLUDE_FROM_NET (today: none).

The protocol and net header sets are computed from the tree (every *.h etc.
under protocols/, every header directly in gateway/net/), not listed here. A
quoted include that names a file next to the including file is that file
(the compiler looks there first), so a core header that happens to share a
name with a protocol header is not reported.

Usage: test/module_rules.py [--root DIR]   (default: this repository)
Prints one `file:line: ...` per violation; exit status 1 if there is any.
test/run runs it in its unit stage as one test.
"""

import argparse
import os
import re
import sys

HEADER_EXT = (".h", ".hh", ".hpp", ".hxx", ".inl", ".ipp")
SOURCE_EXT = HEADER_EXT + (".c", ".cc", ".cpp", ".cxx")

# Third-party headers gateway/core must not include: (what, pattern on the
# included name, angle or quoted).
CORE_FORBIDDEN_LIBS = [
    ("libuv", re.compile(r"^uv(\.h$|/)")),
    ("LMDB", re.compile(r"^lmdb\.h$")),
    ("mbedTLS", re.compile(r"^(mbedtls|psa)/")),
    ("wslay", re.compile(r"^wslay/")),
    ("expat", re.compile(r"^expat(_external|_config)?\.h$")),
    ("yaml-cpp", re.compile(r"^yaml-cpp/")),
]

# gateway/net headers the protocol front-ends legitimately include. None do
# today (they talk to a connection through core/frontend.h); add a name here,
# with a reason, only if that changes on purpose.
PROTOCOLS_MAY_INCLUDE_FROM_NET = set()

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def files_under(root, rel, exts, recursive=True):
    base = os.path.join(root, rel)
    out = []
    if not os.path.isdir(base):
        return out
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for f in sorted(filenames):
            if f.endswith(exts):
                out.append(os.path.relpath(os.path.join(dirpath, f), root))
        if not recursive:
            break
    return out


def includes(root, rel):
    """(line number, delimiter, included name) for each #include of a file,
    skipping /* ... */ comments."""
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    in_comment = False
    for n, line in enumerate(text.splitlines(), 1):
        if in_comment:
            end = line.find("*/")
            if end < 0:
                continue
            line = line[end + 2:]
            in_comment = False
        # drop comments that open (and maybe close) on this line
        while True:
            start = line.find("/*")
            if start < 0:
                break
            end = line.find("*/", start + 2)
            if end < 0:
                line = line[:start]
                in_comment = True
                break
            line = line[:start] + " " + line[end + 2:]
        m = INCLUDE_RE.match(line)
        if m:
            yield n, m.group(1), m.group(2).strip()


def suffix_matches(name, headers):
    """Headers (repository-relative paths) that an include of `name` could
    mean: the header's path ends with `name` at a directory boundary."""
    norm = os.path.normpath(name).replace(os.sep, "/")
    while norm.startswith("../"):
        norm = norm[3:]
    return sorted(h for h in headers if h == norm or h.endswith("/" + norm))


def resolve_local(root, rel, delim, name):
    """The repository-relative file a quoted include names next to (or
    relative to) the including file, or None."""
    if delim != '"':
        return None
    cand = os.path.normpath(os.path.join(os.path.dirname(rel), name))
    if os.path.isfile(os.path.join(root, cand)):
        return cand.replace(os.sep, "/")
    return None


def check(root):
    protocol_headers = set(files_under(root, "protocols", HEADER_EXT))
    net_headers = set(files_under(root, "gateway/net", HEADER_EXT, recursive=False))
    if not net_headers:
        return ["gateway/net: no headers found (wrong --root?)"], 0
    violations = []
    checked = 0

    def in_tree(path, top):
        return path == top or path.startswith(top + "/")

    # gateway/core: no third-party I/O library, no protocol, no net header.
    for rel in files_under(root, "gateway/core", SOURCE_EXT):
        checked += 1
        for line, delim, name in includes(root, rel):
            where = "%s:%d: #include %s%s%s" % (
                rel, line, delim, name, ">" if delim == "<" else '"')
            for lib, pattern in CORE_FORBIDDEN_LIBS:
                if pattern.search(name):
                    violations.append("%s: gateway/core must not include %s headers" % (where, lib))
            local = resolve_local(root, rel, delim, name)
            if local is not None:
                # next to the including file (or a relative path): that file
                if in_tree(local, "protocols"):
                    violations.append("%s: %s is a protocol header" % (where, local))
                elif in_tree(local, "gateway/net"):
                    violations.append("%s: %s is a gateway/net header" % (where, local))
                continue
            for h in suffix_matches(name, protocol_headers):
                violations.append("%s: %s is a protocol header" % (where, h))
            for h in suffix_matches(name, net_headers):
                violations.append("%s: %s is a gateway/net header" % (where, h))

    # protocols/: gateway/net headers only from the allow-list.
    for rel in files_under(root, "protocols", SOURCE_EXT):
        checked += 1
        for line, delim, name in includes(root, rel):
            where = "%s:%d: #include %s%s%s" % (
                rel, line, delim, name, ">" if delim == "<" else '"')
            local = resolve_local(root, rel, delim, name)
            if local is not None:
                hits = [local] if in_tree(local, "gateway/net") else []
            else:
                hits = suffix_matches(name, net_headers)
            for h in hits:
                if os.path.basename(h) not in PROTOCOLS_MAY_INCLUDE_FROM_NET:
                    violations.append(
                        "%s: protocols/ must not include gateway/net header %s" % (where, h))
    return violations, checked


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help="repository root (default: the one holding this script)")
    args = ap.parse_args()
    violations, checked = check(args.root)
    for v in violations:
        print(v)
    print("module rules: %d files checked (gateway/core, protocols), %d violation%s"
          % (checked, len(violations), "" if len(violations) == 1 else "s"))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
