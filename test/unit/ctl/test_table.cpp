// Table: column widths, alignment, no trailing blanks, control characters
// neutralised, UTF-8 measured in code points.
#include <catch2/catch.hpp>
#include <string>

#include "table.h"

using namespace junction::ctl;

TEST_CASE("Table: aligned columns, numbers right", "[ctl][table]") {
  Table t({{"NAME"}, {"MESSAGES", Align::Right}, {"STATE"}});
  t.add_row({"orders", "12", "up"});
  t.add_row({"a", "12345678901", ""});
  CHECK(t.size() == 2);
  CHECK(t.render() ==
        "NAME       MESSAGES  STATE\n"
        "orders           12  up\n"
        "a       12345678901\n");
}

TEST_CASE("Table: missing cells blank, extra cells dropped, empty table", "[ctl][table]") {
  Table t({{"A"}, {"B"}});
  t.add_row({"x"});
  t.add_row({"1", "2", "3"});
  CHECK(t.render() ==
        "A  B\n"
        "x\n"
        "1  2\n");
  CHECK(Table({{"ONLY"}}).render() == "ONLY\n");
  CHECK(Table({{"ONLY"}}, false).render().empty());
}

TEST_CASE("Table: UTF-8 width and control characters", "[ctl][table]") {
  Table t({{"TOPIC"}, {"N", Align::Right}});
  t.add_row({"caf\xC3\xA9", "1"});  // 4 code points, 5 bytes
  t.add_row({"beer", "2"});
  t.add_row({"a\x1b[2Jb", "3"});  // an escape sequence in a client id
  CHECK(t.render() ==
        "TOPIC      N\n"
        "caf\xC3\xA9       1\n"
        "beer       2\n"
        "a\\x1b[2Jb  3\n");
  CHECK(printable("tab\there\x7f") == "tab\\x09here\\x7f");
  CHECK(display_width("\xE6\x97\xA5\xE6\x9C\xAC") == 2);
}

TEST_CASE("render_pairs: names padded to the longest", "[ctl][table]") {
  CHECK(render_pairs({{"version", "0.1.0"}, {"node", "n1"}, {"store used", "1 KiB"}}) ==
        "version     0.1.0\n"
        "node        n1\n"
        "store used  1 KiB\n");
}
