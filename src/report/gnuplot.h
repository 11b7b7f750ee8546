// Shared by the figures of the report layer (plot.cpp, corpus_plot.cpp): gnuplot string
// quoting, number formatting, the palette, and running gnuplot on a generated script into an
// output file atomically. Internal to src/report.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace bentov::report::detail {

inline constexpr std::string_view kInstallHint =
    "install gnuplot with its cairo terminals (Debian: apt-get install gnuplot-nox), or set "
    "BENTOV_GNUPLOT to its path";

// matplotlib's tab10, the notebook's colours, in its order; markers vary too, so the models
// stay apart in greyscale print.
inline constexpr std::array<std::string_view, 10> kPalette = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
inline constexpr std::array<int, 6> kPointTypes = {7, 5, 9, 13, 11, 15};  // circle, square, triangles, diamond, pentagon

// A gnuplot single-quoted string: only ' needs escaping (doubled); newlines would end the
// command, so they become spaces.
inline std::string quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

// At most `max_chars` bytes, cut at a UTF-8 character boundary, with an ellipsis.
inline std::string shorten(const std::string& s, std::size_t max_chars) {
  if (s.size() <= max_chars) return s;
  std::size_t cut = max_chars - 1;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "\u2026";
}

inline std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.17g}", v) : "NaN"; }

inline std::string colour(std::size_t i) { return std::string(kPalette[i % kPalette.size()]); }
inline int point_type(std::size_t i) { return kPointTypes[i % kPointTypes.size()]; }

// The opening lines of every figure script: a cairo terminal ("pngcairo" or "svg") of
// width x height pixels, DejaVu Sans at `font` points on white, the output file, UTF-8 text.
inline std::string figure_header(std::string_view terminal, int width, int height, double font,
                                 const std::filesystem::path& output) {
  return fmt::format("set terminal {} size {},{} enhanced font 'DejaVu Sans,{:.1f}' background '#ffffff'\n", terminal,
                     width, height, font) +
         "set output " + quote(output.string()) + "\nset encoding utf8\n";
}

// Draws `path` atomically: script(tmp) returns the complete gnuplot script that writes the
// figure to `tmp` (a temporary sibling of `path`, renamed on success). The gnuplot executable
// is $BENTOV_GNUPLOT when set, else `gnuplot` on PATH. Throws IoError (with an install hint)
// when gnuplot is missing, fails (its last message quoted) or writes nothing.
void render_gnuplot(const std::filesystem::path& path,
                    const std::function<std::string(const std::filesystem::path& tmp)>& script);

}  // namespace bentov::report::detail
