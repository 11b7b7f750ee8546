#include "bentov/report/sweep_compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "bentov/error.h"
#include "bentov/report/json_writer.h"
#include "gnuplot.h"

namespace bentov::report {
namespace fs = std::filesystem;
using detail::num;
using detail::quote;

namespace {

std::string terminal(const fs::path& path, const fs::path& tmp, int w_in, int h_in) {
  auto ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (ext == ".png") {
    return fmt::format("set terminal pngcairo size {},{} enhanced font 'DejaVu Sans,12'\nset output {}\n",
                       w_in * 150, h_in * 150, quote(tmp.string()));
  }
  if (ext == ".svg") {
    return fmt::format("set terminal svg size {},{} enhanced font 'DejaVu Sans,12' background '#ffffff'\nset output {}\n",
                       w_in * 100, h_in * 100, quote(tmp.string()));
  }
  throw UsageError("figure '" + path.string() + "' must end in .png or .svg", "name the figure file *.png or *.svg");
}

// A gnuplot matrix block: rows = layers, columns = checkpoints.
template <typename Get>
std::string matrix_block(const std::string& name, const std::vector<ModelReport>& models, int layers, Get get) {
  std::string s = "$" + name + " << EOD\n";
  for (int l = 0; l < layers; ++l) {
    for (std::size_t m = 0; m < models.size(); ++m) {
      const double v = get(models[m].layers[static_cast<std::size_t>(l)]);
      s += (m ? " " : "") + (std::isfinite(v) ? num(v) : std::string("NaN"));
    }
    s += "\n";
  }
  return s + "EOD\n";
}

std::string checkpoint_tics(const std::vector<ModelReport>& models) {
  std::string t = "set xtics (";
  for (std::size_t m = 0; m < models.size(); ++m) {
    t += (m ? ", " : "") + quote(detail::shorten(models[m].name, 24)) + " " + std::to_string(m);
  }
  return t + ") rotate by 30 right\n";
}

}  // namespace

std::string format_sweep_table(const AnalysisReport& sweep) {
  std::size_t w = 12;
  for (const auto& m : sweep.models) w = std::max(w, m.name.size() + 2);
  for (const auto& f : sweep.failures) w = std::max(w, display_name(f.source).size() + 2);
  std::string out = fmt::format("{:<{}}{:<10}{:<12}{:<16}{}\n", "Checkpoint", w, "Layers", "L* (L/2)",
                                "L* (empirical)", "Locality range");
  out += std::string(w + 10 + 12 + 16 + 16, '-') + "\n";
  for (const auto& m : sweep.models) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& l : m.layers) {
      lo = std::min(lo, l.locality);
      hi = std::max(hi, l.locality);
    }
    out += fmt::format("{:<{}}{:<10}{:<12}{:<16}{:.3f} .. {:.3f}\n", m.name, w, m.n_layers, m.l_star_theoretical,
                       m.l_star_empirical, lo, hi);
  }
  for (const auto& f : sweep.failures) out += fmt::format("{:<{}}FAILED: {}\n", display_name(f.source), w, f.error);
  return out;
}

nlohmann::json sweep_to_json(const AnalysisReport& sweep) {
  nlohmann::json j = to_json(sweep);
  nlohmann::json names = nlohmann::json::array(), stars = nlohmann::json::array();
  for (const auto& m : sweep.models) {
    names.push_back(m.name);
    stars.push_back(m.l_star_empirical);
  }
  j["sweep"] = {{"checkpoints", names}, {"L_star_empirical", stars}};
  return j;
}

void write_sweep_plot(const fs::path& path, const AnalysisReport& sweep) {
  const auto& ms = sweep.models;
  if (ms.empty()) throw UsageError("no checkpoint was analyzed: nothing to plot", "");
  const int layers = ms.front().n_layers;
  for (const auto& m : ms) {
    if (m.n_layers != layers || static_cast<int>(m.layers.size()) != layers) {
      throw UsageError("checkpoints of a sweep must have the same number of layers (" + m.name + " has " +
                           std::to_string(m.n_layers) + ", " + ms.front().name + " " + std::to_string(layers) + ")",
                       "sweep one model's checkpoints; use analyze for different models");
    }
  }
  detail::render_gnuplot(path, [&](const fs::path& tmp) {
    std::string s = terminal(path, tmp, 14, 10);
    s += "$lstar << EOD\n";
    for (std::size_t m = 0; m < ms.size(); ++m) {
      s += fmt::format("{} {} {}\n", m, ms[m].l_star_empirical, ms[m].l_star_theoretical);
    }
    s += "EOD\n";
    s += matrix_block("loc", ms, layers, [](const LayerSignature& l) { return l.locality; });
    s += matrix_block("ent", ms, layers, [](const LayerSignature& l) { return l.entropy; });
    s += matrix_block("sink", ms, layers, [](const LayerSignature& l) { return l.sink_mass; });
    const std::string xr = fmt::format("set xrange [-0.5:{}]\n", static_cast<double>(ms.size()) - 0.5);
    const std::string yr = fmt::format("set yrange [-0.5:{}]\nset ylabel 'Layer'\nset ytics 1\n", layers - 0.5);
    s += "set multiplot layout 2,2 title 'Sweep over checkpoints' font ',16'\n";
    s += "set grid ytics lc rgb '#dddddd'\nset key top left\n";
    s += checkpoint_tics(ms) + xr;
    s += fmt::format("set yrange [-0.5:{}]\nset ylabel 'L*'\nset ytics 1\n", layers - 0.5);
    s += "set title '(a) L* per checkpoint'\n";
    s += "plot $lstar using 1:2 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'L* (empirical)', "
         "$lstar using 1:3 with lines dt 2 lw 2 lc rgb '#555555' title 'L/2'\n";
    s += "unset grid\nset palette defined (0 '#440154', 0.5 '#21918c', 1 '#fde725')\n" + yr;
    s += "set title '(b) Attention locality'\nplot $loc matrix with image notitle\n";
    s += "set title '(c) Attention entropy (nats)'\nplot $ent matrix with image notitle\n";
    s += "set title '(d) Sink mass (attention on the first token)'\nplot $sink matrix with image notitle\n";
    return s + "unset multiplot\n";
  });
}

std::string format_compare_table(const analysis::Comparison& c) {
  std::string out = fmt::format("{} -> {}: L* {} -> {} (shift {:+d}); largest locality change {:+.4f} at layer {}\n",
                                c.a.name, c.b.name, c.a.l_star_empirical, c.b.l_star_empirical, c.l_star_shift,
                                c.layers.empty() ? 0.0 : c.layers[static_cast<std::size_t>(c.max_abs_locality_layer)].locality,
                                c.max_abs_locality_layer);
  out += fmt::format("{:<7}{:>12}{:>12}{:>12}{:>12}{:>14}\n", "Layer", "locality A", "locality B", "d locality",
                     "d entropy", "d sheaf trace");
  out += std::string(69, '-') + "\n";
  for (std::size_t l = 0; l < c.layers.size(); ++l) {
    const auto& d = c.layers[l];
    out += fmt::format("{:<7}{:>12.4f}{:>12.4f}{:>+12.4f}{:>+12.4f}{:>+14.4g}\n", d.index, c.a.layers[l].locality,
                       c.b.layers[l].locality, d.locality, d.entropy, d.sheaf_trace);
  }
  return out;
}

nlohmann::json compare_to_json(const analysis::Comparison& c) {
  AnalysisReport both;
  both.models = {c.a, c.b};
  const auto models = to_json(both)["models"];
  nlohmann::json layers = nlohmann::json::array();
  auto finite = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  for (const auto& d : c.layers) {
    nlohmann::json heads = nlohmann::json::array();
    for (const auto& h : d.heads) heads.push_back({{"locality", finite(h.locality)}, {"entropy", finite(h.entropy)}});
    layers.push_back({{"index", d.index}, {"locality", finite(d.locality)}, {"entropy", finite(d.entropy)},
                      {"sheaf_trace", finite(d.sheaf_trace)}, {"sink_mass", finite(d.sink_mass)}, {"heads", heads}});
  }
  return {{"bentov_version", BENTOV_VERSION},
          {"a", models[0]},
          {"b", models[1]},
          {"L_star_shift", c.l_star_shift},
          {"delta", {{"definition", "b - a"}, {"layers", layers}}}};
}

void write_compare_plot(const fs::path& path, const analysis::Comparison& c) {
  detail::render_gnuplot(path, [&](const fs::path& tmp) {
    std::string s = terminal(path, tmp, 14, 6);
    s += "$loc << EOD\n";
    for (std::size_t l = 0; l < c.layers.size(); ++l) {
      s += fmt::format("{} {} {}\n", l, num(c.a.layers[l].locality), num(c.b.layers[l].locality));
    }
    s += "EOD\n$heads << EOD\n";
    for (const auto& d : c.layers) {
      for (std::size_t h = 0; h < d.heads.size(); ++h) s += (h ? " " : "") + num(d.heads[h].locality);
      s += "\n";
    }
    s += "EOD\n";
    s += fmt::format("set multiplot layout 1,2 title {} font ',16'\n",
                     quote(c.a.name + " vs " + c.b.name + fmt::format(" (L* shift {:+d})", c.l_star_shift)));
    s += "set grid lc rgb '#dddddd'\nset xlabel 'Layer'\nset ylabel 'Locality (1=local, 0=global)'\nset key bottom right\n";
    s += "set title '(a) Attention locality'\n";
    s += fmt::format("plot $loc using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title {}, "
                     "$loc using 1:3 with linespoints lw 2 pt 5 lc rgb '#ff7f0e' title {}\n",
                     quote(c.a.name), quote(c.b.name));
    const int heads = c.layers.empty() ? 1 : static_cast<int>(c.layers.front().heads.size());
    double m = 1e-6;
    for (const auto& d : c.layers) {
      for (const auto& h : d.heads) m = std::max(m, std::fabs(h.locality));
    }
    s += "unset grid\nset xlabel 'Head'\nset ylabel 'Layer'\n";
    s += fmt::format("set xrange [-0.5:{}]\nset yrange [-0.5:{}]\nset cbrange [{}:{}]\n", heads - 0.5,
                     static_cast<double>(c.layers.size()) - 0.5, -m, m);
    s += "set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n";
    s += "set title '(b) Per-head locality change (B - A)'\nplot $heads matrix with image notitle\n";
    return s + "unset multiplot\n";
  });
}

}  // namespace bentov::report
