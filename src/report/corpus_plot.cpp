#include "bentov/report/corpus_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "bentov/error.h"
#include "report/gnuplot.h"

namespace bentov::report {
namespace fs = std::filesystem;

namespace {

using namespace detail;

constexpr double kFont = 19.0;        // as the 2x2 figure (plot.cpp): 150 dpi PNG
constexpr double kTitleFont = 23.0;
constexpr double kLineWidth = 2.6;
constexpr double kPointSize = 1.7;
constexpr double kBandAlpha = 0.18;

std::vector<const ModelReport*> corpus_models(const AnalysisReport& r) {
  std::vector<const ModelReport*> out;
  for (const auto& m : r.models) {
    if (m.corpus) out.push_back(&m);
  }
  if (out.empty()) throw InputError("no corpus summary to draw (run analyze with --corpus)");
  return out;
}

std::string header(int width, int height, const fs::path& output) {
  return figure_header("pngcairo", width, height, kFont, output);
}

std::string common_settings() {
  return "set border 3 lw 1.2 lc rgb '#333333'\n"
         "set tics nomirror out scale 0.6\n"
         "set grid lw 1 lc rgb '#e3e3e3' dt 1\n"
         "set key opaque box lc rgb '#bbbbbb' Left reverse samplen 2.5 spacing 1.1 width 0\n";
}

std::string title(const std::string& t, double scale = 1.0) {
  return fmt::format("set title {} font ',{:.1f}' noenhanced\n", quote(t), kTitleFont * scale);
}

int max_layers(const std::vector<const ModelReport*>& ms) {
  int L = 1;
  for (const auto* m : ms) L = std::max({L, m->n_layers, static_cast<int>(m->layers.size())});
  return L;
}

std::string layer_axis(int L) {
  const int step = std::max(1, static_cast<int>(std::ceil(L / 12.0)));
  return fmt::format("set xrange [-0.5:{}]\nset xtics 0,{}\nset mxtics 1\nset xlabel 'Layer'\n",
                     num(L - 0.5), step);
}

// Dashed vertical lines at each model's L/2, spread by a hair when models share one.
std::string half_markers(const std::vector<const ModelReport*>& ms, int L, int first_tag) {
  std::string out;
  std::map<int, int> seen, total;
  for (const auto* m : ms) total[m->n_layers / 2]++;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const int half = ms[i]->n_layers / 2;
    const int k = seen[half]++;
    const double x = half + (k - (total[half] - 1) / 2.0) * 0.035 * L / 12.0;
    out += fmt::format(
        "set arrow {} from first {}, graph 0 to first {}, graph 1 nohead dt (16,10) lw {:.2f} "
        "lc rgb '{}' back\n",
        first_tag + static_cast<int>(i), num(x), num(x), kLineWidth * 0.7, colour(i));
  }
  return out;
}

// ---- corpus_profiles.png ---------------------------------------------------------------

struct ProfileQuantity {
  analysis::MeanCi analysis::CorpusLayer::*field;
  const char* title;
  const char* ylabel;
};

constexpr std::array<ProfileQuantity, 4> kProfileQuantities = {{
    {&analysis::CorpusLayer::locality, "(a) Attention locality", "Locality (1=local, 0=global)"},
    {&analysis::CorpusLayer::locality_no_sink, "(b) Locality without the first-token sink",
     "Locality, column 0 excluded"},
    {&analysis::CorpusLayer::sink_mass, "(c) Sink mass: attention on the first token",
     "Mean attention on token 0"},
    {&analysis::CorpusLayer::row_entropy_mean, "(d) Mean row entropy", "Entropy per query (nats)"},
}};

}  // namespace

std::string corpus_profiles_script(const AnalysisReport& report, const fs::path& output) {
  const auto ms = corpus_models(report);
  const int L = max_layers(ms);
  std::ostringstream out;
  out << header(2100, 1500, output);
  for (std::size_t i = 0; i < ms.size(); ++i) {
    out << "$p" << i << " << EOD\n";
    for (const auto& l : ms[i]->corpus->profile) {
      out << l.index;
      for (const auto& q : kProfileQuantities) {
        const auto& s = l.*q.field;
        out << ' ' << num(s.mean) << ' ' << num(s.lo) << ' ' << num(s.hi);
      }
      out << '\n';
    }
    out << "EOD\n";
  }
  int n_texts = 0;
  for (const auto* m : ms) n_texts = std::max(n_texts, m->corpus->n_texts);
  const std::string file = fs::path(ms.front()->corpus->file).filename().string();
  out << "set multiplot layout 2,2 title "
      << quote(fmt::format("Attention profiles over a corpus ({}, {} texts): mean and 95% bootstrap band",
                           file, n_texts))
      << fmt::format(" font ',{:.1f}' noenhanced\n", kTitleFont * 1.05);
  for (std::size_t qi = 0; qi < kProfileQuantities.size(); ++qi) {
    const auto& q = kProfileQuantities[qi];
    out << "reset\n" << common_settings() << title(q.title) << layer_axis(L);
    out << "set ylabel " << quote(q.ylabel) << "\n";
    out << "set key outside top center horizontal maxrows 1 font ',16' samplen 1.6 width 1.5\n";
    out << "set offsets 0, 0, graph 0.05, graph 0.05\n";
    out << half_markers(ms, L, 1);
    const int c = 2 + 3 * static_cast<int>(qi);
    out << "plot ";
    for (std::size_t i = 0; i < ms.size(); ++i) {
      out << fmt::format(
          "$p{} using 1:{}:{} with filledcurves fc rgb '{}' fs transparent solid {:.2f} noborder "
          "notitle, \\\n     ",
          i, c + 1, c + 2, colour(i), kBandAlpha);
    }
    for (std::size_t i = 0; i < ms.size(); ++i) {
      out << fmt::format(
          "$p{} using 1:{} with linespoints lw {:.2f} lc rgb '{}' pt {} ps {:.2f} title {} "
          "noenhanced, \\\n     ",
          i, c, kLineWidth, colour(i), point_type(i), kPointSize, quote(ms[i]->name));
    }
    out << fmt::format(
        "keyentry with filledcurves fc rgb '#888888' fs transparent solid 0.3 noborder "
        "title '95% CI', \\\n     keyentry with lines dt (16,10) lw {:.2f} lc rgb '#555555' "
        "title 'L/2'\n",
        kLineWidth * 0.7);
  }
  out << "unset multiplot\nset output\n";
  return out.str();
}

// ---- l_star_distribution.png -----------------------------------------------------------

std::string l_star_distribution_script(const AnalysisReport& report, const fs::path& output) {
  const auto ms = corpus_models(report);
  const int n = static_cast<int>(ms.size());
  const int cols = std::min(n, 3);
  const int rows = (n + cols - 1) / cols;
  const int width = cols == 1 ? 1200 : cols == 2 ? 1800 : 2400;
  std::ostringstream out;
  out << header(width, 150 + 700 * rows, output);
  out << fmt::format("set multiplot layout {},{} title {} font ',{:.1f}'\n", rows, cols,
                     quote("Distribution of L* over the texts (argmax |d locality / d layer| per text)"),
                     kTitleFont * 1.05);
  for (int i = 0; i < n; ++i) {
    const auto& m = *ms[static_cast<std::size_t>(i)];
    const auto& ls = m.corpus->l_star;
    const int L = std::max(1, m.n_layers);
    const std::string col = colour(static_cast<std::size_t>(i));
    out << "reset\n" << common_settings();
    out << title(fmt::format("{}: L* = {} [{}, {}], {} texts", m.name, ls.mean_profile, ls.ci_lo,
                             ls.ci_hi, m.corpus->n_texts),
                 0.9);
    out << layer_axis(L) << "set ylabel 'Texts'\n";
    int top = 1;
    for (int c : ls.counts) top = std::max(top, c);
    out << fmt::format("set yrange [0:{}]\n", num(std::ceil(top * 1.6)));  // room for the key
    out << "set grid noxtics ytics\n";
    out << "$c << EOD\n";
    for (std::size_t l = 0; l < ls.counts.size(); ++l) out << l << ' ' << ls.counts[l] << '\n';
    out << "EOD\n";
    out << fmt::format(
        "set object 1 rect from first {}, graph 0 to first {}, graph 1 fc rgb '{}' fs "
        "transparent solid 0.16 noborder behind\n",
        num(ls.ci_lo - 0.45), num(ls.ci_hi + 0.45), col);
    out << fmt::format(
        "set arrow 1 from first {}, graph 0 to first {}, graph 1 nohead lw {:.2f} lc rgb '#222222' "
        "front\n",
        ls.mean_profile, ls.mean_profile, kLineWidth);
    out << fmt::format(
        "set arrow 2 from first {}, graph 0 to first {}, graph 1 nohead dt (16,10) lw {:.2f} lc "
        "rgb '#555555' front\n",
        L / 2, L / 2, kLineWidth * 0.8);
    out << "set key top right font ',16' samplen 2\n";
    out << "set style fill solid 0.85 border lc rgb '#333333'\nset boxwidth 0.7\n";
    out << fmt::format(
        "plot $c using 1:2 with boxes lc rgb '{}' title 'texts with this L*', \\\n"
        "     $c using 1:2:(($2 > 0) ? sprintf('%d', $2) : '') with labels offset 0,0.7 font ',15' "
        "notitle, \\\n"
        "     keyentry with lines lw {:.2f} lc rgb '#222222' title 'L* of the mean profile', \\\n"
        "     keyentry with boxes fc rgb '{}' fs transparent solid 0.16 noborder title '95% CI', \\\n"
        "     keyentry with lines dt (16,10) lw {:.2f} lc rgb '#555555' title 'L/2'\n",
        col, kLineWidth, col, kLineWidth * 0.8);
  }
  out << "unset multiplot\nset output\n";
  return out.str();
}

// ---- l_star_ratio.png ------------------------------------------------------------------

std::string l_star_ratio_script(const AnalysisReport& report, const fs::path& output) {
  const auto ms = corpus_models(report);
  const bool mean_row = report.cross_model.has_value() && ms.size() > 1;
  const int rows = static_cast<int>(ms.size()) + (mean_row ? 1 : 0);
  std::ostringstream out;
  out << header(1800, 360 + 120 * rows, output);
  out << common_settings() << "unset key\n";
  out << title("L* / L per model against the hypothesis L/2 (95% bootstrap intervals)");
  // One row per model, top to bottom in command-line order, the mean over models last:
  // y = rows - 1 - i. Columns: y, value, lo, hi, colour.
  std::string tics, labels;
  auto row = [&](int y, const std::string& name, const analysis::RatioTest& t, const std::string& col) {
    out << y << ' ' << num(t.value) << ' ' << num(t.lo) << ' ' << num(t.hi) << " 0x" << col.substr(1) << '\n';
    tics += fmt::format("{}{} {}", tics.empty() ? "" : ", ", quote(name), y);
    labels += fmt::format("set label {} {} at graph 1.03, first {} left font ',17'\n", 20 + y,
                          quote(fmt::format("{:.2f} [{:.2f}, {:.2f}],  p = {:.3g}", t.value, t.lo,
                                            t.hi, t.p_value)),
                          y);
  };
  out << "$r << EOD\n";
  for (std::size_t i = 0; i < ms.size(); ++i) {
    row(rows - 1 - static_cast<int>(i), ms[i]->name, ms[i]->corpus->l_star_ratio, colour(i));
  }
  if (mean_row) row(0, "mean over models", report.cross_model->mean_ratio, "#333333");
  out << "EOD\n";
  out << labels;
  out << "set label 10 'L*/L [95% CI],  p vs 0.5' at graph 1.03, graph 1 left offset 0,-0.2 "
         "font ',16' textcolor rgb '#555555'\n";
  out << "set rmargin at screen 0.7\n";
  out << "set ytics (" << tics << ") noenhanced scale 0\n";
  out << fmt::format("set yrange [-0.7:{}]\n", num(rows - 0.3));
  out << "set xrange [-0.02:1.02]\nset xtics 0,0.1,1\nset grid xtics noytics\n";
  out << "set xlabel 'L* / L  (L* of the mean locality profile; dashed: the hypothesis 0.5)'\n";
  out << "set arrow 1 from first 0.5, graph 0 to first 0.5, graph 1 nohead dt (16,10) lw 2.2 lc rgb "
         "'#555555' back\n";
  if (mean_row) {
    out << "set arrow 2 from graph 0, first 0.5 to graph 1, first 0.5 nohead lw 1 lc rgb '#bbbbbb' back\n";
  }
  out << fmt::format(
      "plot $r using 2:1:3:4:5 with xerrorbars lw {:.2f} pt 7 ps 2.4 lc rgb variable notitle\n",
      kLineWidth);
  out << "set output\n";
  return out.str();
}

// ---- head_maps.png ---------------------------------------------------------------------

std::string head_maps_script(const AnalysisReport& report, const fs::path& output) {
  const auto ms = corpus_models(report);
  const int n = static_cast<int>(ms.size());
  // Shared colour ranges, so that the maps of different models compare.
  double loc_lo = 1.0, loc_hi = 0.0, ent_lo = std::numeric_limits<double>::infinity(), ent_hi = 0.0;
  int max_cells = 0;
  for (const auto* m : ms) {
    for (const auto& l : m->corpus->profile) {
      max_cells = std::max(max_cells, static_cast<int>(m->corpus->profile.size() * l.heads.size()));
      for (const auto& h : l.heads) {
        if (std::isfinite(h.locality)) loc_lo = std::min(loc_lo, h.locality), loc_hi = std::max(loc_hi, h.locality);
        if (std::isfinite(h.entropy)) ent_lo = std::min(ent_lo, h.entropy), ent_hi = std::max(ent_hi, h.entropy);
      }
    }
  }
  if (!(loc_lo < loc_hi)) loc_lo = 0.0, loc_hi = 1.0;
  if (!(ent_lo < ent_hi)) ent_lo = 0.0, ent_hi = std::max(1.0, ent_hi);
  const bool labels = max_cells <= 400;
  std::ostringstream out;
  out << header(2100, 160 + 620 * n, output);
  out << fmt::format("set multiplot layout {},2 title {} font ',{:.1f}'\n", n,
                     quote("Per-head attention, mean over the corpus (layer x head)"), kTitleFont * 1.05);
  // Viridis: dark at the low end, so the cell labels switch from white to black above 0.55.
  const std::string palette =
      "set palette defined (0 '#440154', 0.13 '#482878', 0.25 '#3e4989', 0.38 '#31688e', 0.5 "
      "'#26828e', 0.63 '#1f9e89', 0.75 '#35b779', 0.88 '#6ece58', 1 '#fde725')\n";
  for (int i = 0; i < n; ++i) {
    const auto& m = *ms[static_cast<std::size_t>(i)];
    const int L = static_cast<int>(m.corpus->profile.size());
    const int H = L > 0 ? static_cast<int>(m.corpus->profile.front().heads.size()) : 0;
    out << "$h << EOD\n";
    for (const auto& l : m.corpus->profile) {
      for (std::size_t h = 0; h < l.heads.size(); ++h) {
        const double ln = (l.heads[h].locality - loc_lo) / (loc_hi - loc_lo);
        const double en = (l.heads[h].entropy - ent_lo) / (ent_hi - ent_lo);
        out << h << ' ' << l.index << ' ' << num(l.heads[h].locality) << ' '
            << num(l.heads[h].entropy) << ' ' << (ln > 0.55 ? 0 : 0xffffff) << ' '
            << (en > 0.55 ? 0 : 0xffffff) << '\n';
      }
    }
    out << "EOD\n";
    for (int q = 0; q < 2; ++q) {
      const bool loc = q == 0;
      out << "reset\n" << palette;
      out << "set border lw 1.2 lc rgb '#333333'\nset tics out nomirror scale 0.6\nunset key\n";
      out << title(fmt::format("{}: {}", m.name, loc ? "locality per head" : "entropy per head (nats)"), 0.85);
      out << fmt::format("set xrange [-0.5:{}]\nset yrange [-0.5:{}]\n", num(H - 0.5), num(L - 0.5));
      out << fmt::format("set xtics 0,{}\nset ytics 0,{}\n", std::max(1, H / 16), std::max(1, L / 12));
      out << "set xlabel 'Head'\nset ylabel 'Layer'\n";
      out << fmt::format("set cbrange [{}:{}]\n", num(loc ? loc_lo : ent_lo), num(loc ? loc_hi : ent_hi));
      out << fmt::format("set cblabel {}\n", quote(loc ? "Locality" : "Entropy (nats)"));
      out << fmt::format("plot $h using 1:2:{} with image", loc ? 3 : 4);
      if (labels) {
        out << fmt::format(", \\\n     $h using 1:2:(sprintf('%.{}f', ${})):{} with labels font ',14' tc rgb variable",
                           loc ? 2 : 1, loc ? 3 : 4, loc ? 5 : 6);
      }
      out << "\n";
    }
  }
  out << "unset multiplot\nset output\n";
  return out.str();
}

std::vector<fs::path> write_corpus_plots(const fs::path& dir, const AnalysisReport& report) {
  (void)corpus_models(report);
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::vector<fs::path> written;
  auto draw = [&](const char* name, std::string (*script)(const AnalysisReport&, const fs::path&)) {
    const fs::path path = dir / name;
    render_gnuplot(path, [&](const fs::path& tmp) { return script(report, tmp); });
    written.push_back(path);
  };
  draw("corpus_profiles.png", corpus_profiles_script);
  draw("l_star_distribution.png", l_star_distribution_script);
  draw("l_star_ratio.png", l_star_ratio_script);
  draw("head_maps.png", head_maps_script);
  return written;
}

}  // namespace bentov::report
