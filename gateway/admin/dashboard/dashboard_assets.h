// junction::admin dashboard assets: the operator's web page (index.html and
// anything listed beside it in meson.build), compiled into the binary so the
// admin HTTP listener serves it with no files on disk.
//
// The definition, dashboard_assets.cpp, is generated at build time by
// embed.py from the files themselves; editing index.html and rebuilding is
// all it takes. Bodies are static storage: the views stay valid forever.
#pragma once

#include <span>
#include <string_view>

namespace junction::admin {

struct DashboardAsset {
  std::string_view path;          // request path: "/" for index.html, "/<file>" for the others
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;          // the file's bytes, exactly (may hold NULs)
};

// Every embedded file; "/" is index.html.
std::span<const DashboardAsset> dashboard_assets();

}  // namespace junction::admin
