#include "bentov/report/plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <string_view>
#include <vector>

#include "bentov/error.h"
#include "bentov/io/atomic_file.h"
#include "report/gnuplot.h"

namespace bentov::report {
namespace fs = std::filesystem;

namespace {

using namespace detail;  // quote, num, colour, ... (report/gnuplot.h)

// Sizes for one terminal. The PNG is 14 x 10 in at 150 dpi; cairo sizes fonts in points of
// 1/72 in, so a 10 pt matplotlib font at 150 dpi is ~21 pt here.
struct Style {
  int width, height;  // pixels
  double font;        // base font size (tics, key, labels)
  double title_font;  // panel titles
  double line_width;  // data lines
  double point_size;  // markers
  // Cairo draws a font of s points s * 96/72 pixels tall (measured on both terminals).
  double px(double points) const { return points * 96.0 / 72.0; }
};

Style style_for(PlotFormat f) {
  if (f == PlotFormat::kPng) return {kPlotPngWidth, kPlotPngHeight, 19.0, 23.0, 2.6, 1.9};
  return {kPlotSvgWidth, kPlotSvgHeight, 12.5, 15.0, 1.7, 0.85};
}

enum class Quantity { kLocality, kEntropy, kSheafTrace };

double value_of(const LayerSignature& l, Quantity q) {
  switch (q) {
    case Quantity::kLocality: return l.locality;
    case Quantity::kEntropy: return l.entropy;
    case Quantity::kSheafTrace: return l.sheaf_trace;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// The value as plotted: NaN (a gap) when it cannot be drawn; on the log axis that includes
// every value <= 0, which a log axis cannot show (matplotlib masks them the same way).
double plotted(const LayerSignature& l, Quantity q) {
  const double v = value_of(l, q);
  if (!std::isfinite(v)) return std::numeric_limits<double>::quiet_NaN();
  if (q == Quantity::kSheafTrace) {
    if (v <= 0.0) return std::numeric_limits<double>::quiet_NaN();
    return std::log10(v);  // placement maths happens in log space
  }
  return v;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  bool empty() const { return !(lo <= hi); }
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

// Where a panel's key goes. Candidates, first fit wins: a corner (top right, top left,
// bottom right, bottom left) whose box, in graph fractions, no line or marker crosses, with
// the key in one column, then in two; then the top right corner with headroom added above
// the data (while the data keeps at least half the height); last, outside on the right with
// long names shortened. Matplotlib's legend(loc="best") does the same search.
struct KeyPlacement {
  std::string position;      // gnuplot "set key" position words
  int columns = 1;           // entries per row
  double y_hi = 0;           // the top of the y range (raised for headroom)
  std::size_t max_name = 0;  // names longer than this are shortened (0: never)
};

// Key box size in graph fractions for `columns` columns.
using KeySizeFn = std::function<std::pair<double, double>(int columns)>;

KeyPlacement place_key(const std::vector<std::vector<std::pair<double, double>>>& series,
                       double x_lo, double x_hi, double y_lo, double y_hi,
                       const KeySizeFn& key_size) {
  // Sample every segment densely, in graph fractions.
  std::vector<std::pair<double, double>> pts;
  for (const auto& s : series) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto [x0, y0] = s[i];
      if (!std::isfinite(y0)) continue;
      pts.emplace_back((x0 - x_lo) / (x_hi - x_lo), (y0 - y_lo) / (y_hi - y_lo));
      if (i + 1 < s.size() && std::isfinite(s[i + 1].second)) {
        const auto [x1, y1] = s[i + 1];
        for (int k = 1; k < 24; ++k) {
          const double t = k / 24.0;
          pts.emplace_back((x0 + t * (x1 - x0) - x_lo) / (x_hi - x_lo),
                           (y0 + t * (y1 - y0) - y_lo) / (y_hi - y_lo));
        }
      }
    }
  }
  const double pad = 0.03;  // markers have a size
  struct Corner {
    const char* words;
    bool right, top;
  };
  constexpr std::array<Corner, 4> corners = {{{"top right", true, true},
                                              {"top left", false, true},
                                              {"bottom right", true, false},
                                              {"bottom left", false, false}}};
  for (int columns : {1, 2}) {
    const auto [key_w, key_h] = key_size(columns);
    if (key_w > 0.97 || key_h > 0.97) continue;
    for (const auto& c : corners) {
      const double x0 = c.right ? 1.0 - key_w - pad : 0.0;
      const double x1 = c.right ? 1.0 : key_w + pad;
      const double y0 = c.top ? 1.0 - key_h - pad : 0.0;
      const double y1 = c.top ? 1.0 : key_h + pad;
      const bool free = std::none_of(pts.begin(), pts.end(), [&](const auto& p) {
        return p.first >= x0 && p.first <= x1 && p.second >= y0 && p.second <= y1;
      });
      if (free) return {std::string(c.words), columns, y_hi, 0};
    }
  }
  for (int columns : {1, 2}) {
    const auto [key_w, key_h] = key_size(columns);
    const double keep = 1.0 - key_h - 2 * pad;
    if (key_w <= 0.97 && keep >= 0.5) {
      return {"top right", columns, y_lo + (y_hi - y_lo) / keep, 0};
    }
  }
  return {"outside right top vertical", 1, y_hi, 16};
}

// Tic labels for a log axis spanning [10^lo, 10^hi] (under two decades): the 1-2-5
// multiples of powers of ten inside it, or every 1..9 multiple when that gives fewer than 3.
std::string log_tics(double lo, double hi) {
  std::vector<double> tics;
  for (const std::vector<int>& mantissas : {std::vector<int>{1, 2, 5},
                                           std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    tics.clear();
    for (int e = static_cast<int>(std::floor(lo)) - 1; e <= static_cast<int>(std::ceil(hi));
         ++e) {
      for (int m : mantissas) {
        const double v = m * std::pow(10.0, e);
        const double lv = std::log10(v);
        if (lv >= lo && lv <= hi) tics.push_back(v);
      }
    }
    if (tics.size() >= 3) break;
  }
  std::string out;
  for (double v : tics) {
    const std::string label = v >= 1e-3 && v < 1e6 ? fmt::format("{}", v)  // 2000, 0.05
                                                   : fmt::format("{:.0e}", v);
    out += fmt::format("{}'{}' {}", out.empty() ? "" : ", ", label, num(v));
  }
  return out;
}

struct PanelSpec {
  Quantity quantity;
  const char* title;
  const char* ylabel;
};

class ScriptWriter {
 public:
  ScriptWriter(const AnalysisReport& r, PlotFormat f) : r_(r), st_(style_for(f)) {
    for (const auto& m : r_.models) max_layers_ = std::max(max_layers_, m.n_layers);
    for (const auto& m : r_.models) {
      max_layers_ = std::max(max_layers_, static_cast<int>(m.layers.size()));
    }
    max_layers_ = std::max(max_layers_, 1);
  }

  std::string write(const fs::path& output, PlotFormat f) {
    header(output, f);
    data_blocks();
    out_ << "set multiplot layout 2,2 title " << quote(figure_title())
         << fmt::format(" font ',{:.1f}'", st_.title_font * 1.1) << "\n";
    line_panel({Quantity::kLocality, "(a) Attention Locality", "Locality (1=local, 0=global)"});
    line_panel({Quantity::kEntropy, "(b) Attention Entropy", "Entropy (nats)"});
    line_panel({Quantity::kSheafTrace, "(c) Sheaf Laplacian Trace", "Trace (log scale)"});
    bar_panel();
    out_ << "unset multiplot\nset output\n";
    return out_.str();
  }

 private:
  std::string figure_title() const {
    return "Bentov Point analysis: where attention turns from local to global";
  }

  void header(const fs::path& output, PlotFormat f) {
    // The rest is per panel, after each `reset`.
    out_ << figure_header(f == PlotFormat::kPng ? "pngcairo" : "svg", st_.width, st_.height, st_.font, output);
  }

  // One block per model: layer, locality, entropy, sheaf trace (NaN when not drawable).
  void data_blocks() {
    for (std::size_t i = 0; i < r_.models.size(); ++i) {
      out_ << "$model" << i << " << EOD\n";
      for (const auto& l : r_.models[i].layers) {
        const double trace = value_of(l, Quantity::kSheafTrace);
        out_ << l.index << ' ' << num(l.locality) << ' ' << num(l.entropy) << ' '
             << (std::isfinite(trace) && trace > 0.0 ? num(trace) : "NaN") << '\n';
      }
      out_ << "EOD\n";
    }
  }

  // Key size in graph fractions: one line per model plus the L/2 entry.
  std::pair<double, double> key_size(std::size_t entries, std::size_t longest_title,
                                     int columns) const {
    const double char_w = 0.62 * st_.px(st_.font);  // DejaVu Sans average advance, pixels
    const double line_h = 1.3 * st_.px(st_.font);
    const double panel_w = st_.width / 2.0 - 13.0 * char_w;  // minus y label and tics
    const double panel_h = st_.height / 2.0 - 6.5 * line_h;  // minus titles, x label, tics
    const auto cols = static_cast<std::size_t>(columns);
    const auto rows = static_cast<double>((entries + cols - 1) / cols);
    const double w = static_cast<double>(cols) * (static_cast<double>(longest_title) + 8.0) *
                     char_w;
    const double h = (rows + 0.8) * line_h;
    return {w / panel_w, h / panel_h};
  }

  void x_axis() {
    const int step = std::max(1, static_cast<int>(std::ceil(max_layers_ / 12.0)));
    out_ << fmt::format("set xrange [-0.5:{}]\n", num(max_layers_ - 0.5));
    out_ << fmt::format("set xtics 0,{} \nset mxtics 1\n", step);
    out_ << "set xlabel 'Layer'\n";
  }

  void line_panel(const PanelSpec& p) {
    const bool log_axis = p.quantity == Quantity::kSheafTrace;
    out_ << "reset\n" << common_settings();
    out_ << fmt::format("set title {} font ',{:.1f}'\n", quote(p.title), st_.title_font);
    out_ << "set ylabel " << quote(p.ylabel) << "\n";
    x_axis();

    // y range from the data, padded, so the key can be placed where the data is not.
    std::vector<std::vector<std::pair<double, double>>> series;
    Range yr;
    std::size_t longest = std::string_view("L/2 (theoretical L*)").size();
    for (const auto& m : r_.models) {
      std::vector<std::pair<double, double>> s;
      for (const auto& l : m.layers) {
        const double v = plotted(l, p.quantity);
        s.emplace_back(static_cast<double>(l.index), v);
        yr.add(v);
      }
      series.push_back(std::move(s));
      longest = std::max(longest, m.name.size());
    }
    const bool no_data = yr.empty();
    if (no_data) {
      yr.lo = 0.0;  // on the log axis: 10^0 .. 10^1
      yr.hi = 1.0;
    } else if (yr.hi - yr.lo < 1e-12 * std::max(1.0, std::fabs(yr.hi))) {
      const double d = log_axis ? 0.5 : std::max(0.05, 0.1 * std::fabs(yr.hi));
      yr.lo -= d;
      yr.hi += d;
    } else {
      const double d = 0.07 * (yr.hi - yr.lo);
      yr.lo -= d;
      yr.hi += d;
    }
    const std::size_t entries = r_.models.size() + 1;
    const KeyPlacement key = place_key(series, -0.5, max_layers_ - 0.5, yr.lo, yr.hi,
                                       [&](int columns) {
                                         return key_size(entries, longest, columns);
                                       });
    const double y_hi = key.y_hi;

    if (log_axis) {
      out_ << "set logscale y 10\n";
      out_ << fmt::format("set yrange [{}:{}]\n", num(std::pow(10.0, yr.lo)),
                          num(std::pow(10.0, y_hi)));
      if (y_hi - yr.lo >= 2.0) {
        out_ << "set format y '10^{%L}'\n";
      } else {
        // Less than two decades: gnuplot would label one power of ten at most; label
        // 1-2-5 (or 1..9) multiples instead.
        out_ << "set ytics (" << log_tics(yr.lo, y_hi) << ")\nset mytics 1\n";
      }
      if (no_data) {
        out_ << "set label 1 'no positive sheaf trace to draw' at graph 0.5, graph 0.5 "
                "center textcolor rgb '#666666'\n";
      }
    } else {
      out_ << fmt::format("set yrange [{}:{}]\n", num(yr.lo), num(y_hi));
    }
    out_ << "set key " << key.position;
    if (key.columns > 1) out_ << " maxrows " << (entries + 1) / 2;
    out_ << "\n";

    // Dashed L/2 markers. Models sharing an L/2 get their lines spread by a hair so every
    // colour stays visible.
    std::map<int, int> seen_at;  // L/2 -> models with that L/2 so far
    std::map<int, int> total_at;
    for (const auto& m : r_.models) total_at[m.n_layers / 2]++;
    for (std::size_t i = 0; i < r_.models.size(); ++i) {
      const int half = r_.models[i].n_layers / 2;
      const int k = seen_at[half]++;
      const double spread = 0.035 * max_layers_ / 12.0;
      const double x = half + (k - (total_at[half] - 1) / 2.0) * spread;
      out_ << fmt::format(
          "set arrow {} from first {}, graph 0 to first {}, graph 1 nohead dt (16,10) lw {:.2f} "
          "lc rgb '{}' back\n",
          i + 1, num(x), num(x), st_.line_width * 0.7, colour(i));
    }

    const int column = p.quantity == Quantity::kLocality ? 2
                       : p.quantity == Quantity::kEntropy ? 3
                                                          : 4;
    out_ << "plot ";
    for (std::size_t i = 0; i < r_.models.size(); ++i) {
      out_ << fmt::format(
          "$model{} using 1:{} with linespoints lw {:.2f} lc rgb '{}' pt {} ps {:.2f} "
          "title {} noenhanced, \\\n     ",
          i, column, st_.line_width, colour(i), point_type(i), st_.point_size,
          quote(key.max_name ? shorten(r_.models[i].name, key.max_name)
                             : r_.models[i].name));
    }
    out_ << fmt::format("keyentry with lines dt (16,10) lw {:.2f} lc rgb '#555555' "
                        "title 'L/2 (theoretical L*)'\n",
                        st_.line_width * 0.7);
  }

  void bar_panel() {
    out_ << "reset\n" << common_settings();
    out_ << fmt::format("set title {} font ',{:.1f}'\n",
                        quote("(d) L* theoretical vs empirical"), st_.title_font);
    out_ << "set ylabel 'Layer index (L*)'\n";
    out_ << "$lstar << EOD\n";
    int top = 1;
    std::size_t name_chars = 0;
    for (std::size_t i = 0; i < r_.models.size(); ++i) {
      const auto& m = r_.models[i];
      out_ << i << ' ' << m.l_star_theoretical << ' ' << m.l_star_empirical << '\n';
      top = std::max({top, m.l_star_theoretical, m.l_star_empirical});
      name_chars += m.name.size() + 2;
    }
    out_ << "EOD\n";
    const double n = static_cast<double>(r_.models.size());
    const double y_top = std::ceil(top * 1.4 + 1.0);
    out_ << fmt::format("set yrange [0:{}]\n", num(y_top));
    // Layer indices are integers: integer tics, at most about ten of them.
    int step = 1;
    for (int nice : {1, 2, 5, 10, 20, 50, 100}) {
      step = nice;
      if (y_top / nice <= 10.0) break;
    }
    out_ << fmt::format("set ytics 0,{}\nset mytics 1\n", step);
    out_ << "set grid noxtics ytics\n";
    // Names that would not fit side by side under their groups are slanted, and very long
    // ones shortened, so that no label runs into its neighbour or into panel (c).
    const double char_w = 0.62 * st_.px(st_.font);
    const double panel_w = st_.width / 2.0 - 13.0 * char_w;
    const bool slanted = static_cast<double>(name_chars) * char_w > 0.9 * panel_w;
    out_ << "set xtics (";
    for (std::size_t i = 0; i < r_.models.size(); ++i) {
      out_ << (i ? ", " : "") << quote(slanted ? shorten(r_.models[i].name, 20)
                                               : r_.models[i].name)
           << ' ' << i;
    }
    out_ << ") noenhanced scale 0\n";
    if (slanted) out_ << "set xtics rotate by 30 right\n";
    out_ << fmt::format("set xrange [{}:{}]\n", slanted ? "-0.9" : "-0.6", num(n - 0.4));
    out_ << "set key top left\n";
    out_ << "set style fill solid 0.9 border lc rgb '#333333'\n";
    out_ << "set boxwidth 0.36\n";
    out_ << fmt::format(
        "plot $lstar using ($1-0.19):2 with boxes lc rgb '#9ecae1' title 'Theoretical (L/2)', "
        "\\\n     $lstar using ($1+0.19):3 with boxes lc rgb '#e6550d' title "
        "'Empirical (max |grad locality|)', \\\n"
        "     $lstar using ($1-0.19):2:(sprintf('%d', $2)) with labels offset 0,0.8 "
        "font ',{:.1f}' notitle, \\\n"
        "     $lstar using ($1+0.19):3:(sprintf('%d', $3)) with labels offset 0,0.8 "
        "font ',{:.1f}' notitle\n",
        st_.font * 0.95, st_.font * 0.95);
  }

  std::string common_settings() const {
    std::string s;
    s += "set border 3 lw 1.2 lc rgb '#333333'\n";
    s += "set tics nomirror out scale 0.6\n";
    s += "set grid lw 1 lc rgb '#e3e3e3' dt 1\n";
    s += "set key opaque box lc rgb '#bbbbbb' Left reverse samplen 2.5 spacing 1.1 width 0\n";
    s += "set style data linespoints\n";
    return s;
  }

  const AnalysisReport& r_;
  Style st_;
  int max_layers_ = 1;
  std::ostringstream out_;
};

}  // namespace

PlotFormat plot_format_for(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".png") return PlotFormat::kPng;
  if (ext == ".svg") return PlotFormat::kSvg;
  throw UsageError("cannot draw the figure as '" + path.string() + "': unknown format '" + ext +
                       "'",
                   "name the --plot file .png or .svg");
}

std::string gnuplot_script(const AnalysisReport& report, PlotFormat format,
                           const fs::path& output) {
  if (report.models.empty()) {
    throw InputError("no model was analyzed: nothing to draw");
  }
  return ScriptWriter(report, format).write(output, format);
}

void write_plot(const fs::path& path, const AnalysisReport& report) {
  const PlotFormat format = plot_format_for(path);
  if (report.models.empty()) {
    throw InputError("no model was analyzed: nothing to draw in '" + path.string() + "'");
  }
  detail::render_gnuplot(path, [&](const fs::path& tmp) { return gnuplot_script(report, format, tmp); });
}

}  // namespace bentov::report
