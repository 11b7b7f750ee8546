#include "bentov/report/html_report.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "bentov/io/atomic_file.h"
#include "bentov/report/json_writer.h"
#include "bentov/report/sweep_compare.h"
#include "report/html_assets.h"

namespace bentov::report {
namespace {

using nlohmann::json;

// Room kept below kHtmlMaxBytes for what is counted approximately (none is, today).
constexpr std::size_t kSlackBytes = 64 * 1024;

// One model of the page and the patterns it shows (null: curves only).
struct PageModel {
  const ModelReport* report = nullptr;
  const ModelPatterns* patterns = nullptr;
  std::vector<int> full;  // flat head indices whose full pattern the page stores
};

std::vector<PageModel> page_models(const std::vector<const ModelReport*>& reports, const PatternCollector* collector) {
  std::vector<PageModel> out;
  for (const auto* r : reports) {
    PageModel m{r, collector ? collector->find(r->source) : nullptr, {}};
    if (m.patterns && (m.patterns->n_layers != r->n_layers || m.patterns->n_heads != r->n_heads ||
                       m.patterns->n != static_cast<int>(r->token_ids.size()))) {
      m.patterns = nullptr;  // not this run's pass (cannot happen through the pipeline)
    }
    if (m.patterns) {
      for (const int i : full_pattern_order(r->n_layers, r->n_heads)) {
        if (!m.patterns->full[static_cast<std::size_t>(i)].empty()) m.full.push_back(i);
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

// JSON text safe inside <script>: no '<' at all (only strings can hold one).
std::string script_json(const json& j) {
  const std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

json patterns_json(const PageModel& m) {
  if (!m.patterns) return nullptr;
  const ModelPatterns& p = *m.patterns;
  return {{"n", p.n},
          {"labels", p.labels},
          {"labels_from_tokenizer", p.labels_from_tokenizer},
          {"thumb_side", p.thumb_side},
          {"full", m.full},
          {"full_total", p.n_layers * p.n_heads}};
}

json limits_json() {
  return {{"max_bytes", kHtmlMaxBytes},       {"thumb_floor", kThumbFloor},
          {"thumb_max_side", kThumbMaxSide},  {"full_floor", kFullFloor},
          {"full_relative_error", kFullRelativeError}};
}

std::string blob(const std::string& id, std::span<const std::uint8_t> bytes) {
  return "<script type=\"application/octet-stream\" id=\"" + id + "\">" + base64_encode(bytes) + "</script>\n";
}

std::span<const std::uint8_t> as_bytes(const std::vector<std::uint16_t>& v) {
  static_assert(sizeof(std::uint16_t) == 2);
  return {reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * 2};  // little-endian hosts (x86-64, arm64)
}

std::size_t thumbs_bytes(const std::vector<PageModel>& models) {
  std::size_t total = 0;
  for (const auto& m : models) {
    if (m.patterns) total += m.patterns->thumbs.size() * (thumb_page_bytes(m.patterns->thumb_side) + 64);
  }
  return total;
}

// Drops full patterns, the last of the model with most first, until the page fits.
void fit_full_patterns(std::vector<PageModel>& models, std::size_t fixed_bytes) {
  auto total = [&] {
    std::size_t t = fixed_bytes + thumbs_bytes(models);
    for (const auto& m : models) t += m.full.size() * (full_page_bytes(m.patterns ? m.patterns->n : 0) + 64);
    return t;
  };
  while (total() + kSlackBytes > kHtmlMaxBytes) {
    auto most = std::max_element(models.begin(), models.end(),
                                 [](const auto& a, const auto& b) { return a.full.size() < b.full.size(); });
    if (most == models.end() || most->full.empty()) break;
    most->full.pop_back();
  }
  // Thumbnails alone too large (only with a great many models): the last models lose theirs.
  for (auto it = models.rbegin(); it != models.rend() && total() + kSlackBytes > kHtmlMaxBytes; ++it) {
    it->patterns = nullptr;
    it->full.clear();
  }
}

std::string blobs(const std::vector<PageModel>& models) {
  std::string out;
  for (std::size_t m = 0; m < models.size(); ++m) {
    const ModelPatterns* p = models[m].patterns;
    if (!p) continue;
    const std::string prefix = std::to_string(m) + "-";
    for (std::size_t i = 0; i < p->thumbs.size(); ++i) out += blob("t-" + prefix + std::to_string(i), p->thumbs[i]);
    for (const int i : models[m].full) {
      out += blob("f-" + prefix + std::to_string(i), as_bytes(p->full[static_cast<std::size_t>(i)]));
    }
  }
  return out;
}

std::string page_head(const std::string& title) {
  std::string escaped;
  for (const char c : title) {
    if (c == '<') {
      escaped += "&lt;";
    } else if (c == '&') {
      escaped += "&amp;";
    } else {
      escaped += c;
    }
  }
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
         "style-src 'unsafe-inline'; img-src data: blob:\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         escaped + "</title>\n<style>\n" + detail::html_report_css() + "</style>\n</head>\n<body>\n" +
         "<div id=\"app\"><noscript>This report needs JavaScript.</noscript></div>\n";
}

// kind: "analyze", "sweep" or "compare"; results: that command's JSON.
std::string build_page(const std::string& kind, const std::string& title, const json& results,
                       std::vector<PageModel> models) {
  json data = {{"kind", kind}, {"title", title}, {"results", results}, {"limits", limits_json()}};
  const std::string head = page_head(title);
  const std::string tail = std::string("<script>\n") + detail::html_report_js() + "</script>\n</body>\n</html>\n";
  auto data_script = [&] {
    json patterns = json::array();
    for (const auto& m : models) patterns.push_back(patterns_json(m));
    data["patterns"] = std::move(patterns);
    return "<script type=\"application/json\" id=\"bentov-data\">" + script_json(data) + "</script>\n";
  };
  fit_full_patterns(models, head.size() + tail.size() + data_script().size());
  return head + data_script() + blobs(models) + tail;
}

std::string models_title(const std::vector<const ModelReport*>& models, const char* what) {
  std::string t = std::string("bentov ") + what + ":";
  for (std::size_t i = 0; i < models.size() && i < 4; ++i) t += (i ? ", " : " ") + models[i]->name;
  if (models.size() > 4) t += ", ...";
  return t;
}

std::vector<const ModelReport*> pointers(const std::vector<ModelReport>& models) {
  std::vector<const ModelReport*> out;
  for (const auto& m : models) out.push_back(&m);
  return out;
}

}  // namespace

std::string analyze_html(const AnalysisReport& report, const PatternCollector* patterns) {
  const auto models = pointers(report.models);
  return build_page("analyze", models_title(models, "analyze"), to_json(report), page_models(models, patterns));
}

std::string sweep_html(const AnalysisReport& sweep, const PatternCollector* patterns) {
  const auto models = pointers(sweep.models);
  return build_page("sweep", models_title(models, "sweep"), sweep_to_json(sweep), page_models(models, patterns));
}

std::string compare_html(const analysis::Comparison& c, const PatternCollector* patterns) {
  const std::vector<const ModelReport*> models = {&c.a, &c.b};
  return build_page("compare", "bentov compare: " + c.a.name + " vs " + c.b.name, compare_to_json(c),
                    page_models(models, patterns));
}

void write_html(const std::filesystem::path& path, const std::string& page) { io::write_file_atomic(path, page); }

}  // namespace bentov::report
