// junction::ctl::Table — the aligned text tables ctl prints: a header row
// of titles, then one row per item, columns padded to their widest cell
// and separated by two spaces; numbers are right-aligned when the column
// says so. No trailing blanks, so the output diffs and greps cleanly.
//
// Cells come from the server (client ids, topics, error texts): control
// characters are shown as \xNN, so a hostile client id cannot move the
// cursor or clear the operator's terminal. Width is counted in UTF-8 code
// points (East Asian wide characters are not measured; good enough for
// ids and topics).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::ctl {

enum class Align { Left, Right };

struct Column {
  std::string title;
  Align align = Align::Left;
};

class Table {
 public:
  explicit Table(std::vector<Column> columns, bool show_header = true);

  // Missing cells are blank; cells beyond the columns are dropped.
  void add_row(std::vector<std::string> cells);
  std::size_t size() const { return rows_.size(); }

  // Every line ends with '\n'.
  std::string render() const;

 private:
  std::vector<Column> columns_;
  bool show_header_;
  std::vector<std::vector<std::string>> rows_;
};

// "name   value" lines, names padded to the longest (a Table without header).
std::string render_pairs(const std::vector<std::pair<std::string, std::string>>& pairs);

// Control characters (and DEL) as \xNN; everything else unchanged.
std::string printable(std::string_view text);

// UTF-8 code points (continuation bytes not counted).
std::size_t display_width(std::string_view text);

}  // namespace junction::ctl
