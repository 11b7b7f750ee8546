#include "bentov/report/json_writer.h"

#include <cmath>

#include "bentov/io/atomic_file.h"

namespace bentov::report {
namespace {

// nlohmann::json sorts keys; ordered_json keeps DESIGN.md's order for people reading the
// file. One builder serves both.
template <typename Json>
Json number(double v) {
  if (!std::isfinite(v)) return Json(nullptr);
  return Json(v);
}

template <typename Json>
Json pair(double lo, double hi) {
  Json a = Json::array();
  a.push_back(number<Json>(lo));
  a.push_back(number<Json>(hi));
  return a;
}

template <typename Json>
Json optional_int(const std::optional<int>& v) {
  return v ? Json(*v) : Json(nullptr);
}

template <typename Json>
Json estimators_json(const analysis::Estimators& e) {
  Json j = Json::object();
  j["argmax_gradient"] = e.argmax_gradient;
  if (e.two_segment) {
    const auto& t = *e.two_segment;
    Json jt = Json::object();
    jt["break"] = t.break_layer;
    jt["supported"] = t.supported;
    jt["delta_bic"] = number<Json>(t.delta_bic);
    jt["bic_two_segment"] = number<Json>(t.bic_two_segment);
    jt["bic_line"] = number<Json>(t.bic_line);
    jt["rss_two_segment"] = number<Json>(t.rss_two_segment);
    jt["rss_line"] = number<Json>(t.rss_line);
    jt["slope_before"] = number<Json>(t.slope_before);
    jt["slope_after"] = number<Json>(t.slope_after);
    j["two_segment"] = std::move(jt);
  } else {
    j["two_segment"] = nullptr;
  }
  j["trace_sign_change"] = optional_int<Json>(e.trace_sign_change);
  Json c = Json::object();
  c["layer"] = e.consensus.layer;
  c["agree"] = e.consensus.agree;
  c["spread"] = e.consensus.spread;
  c["n_estimates"] = e.consensus.n_estimates;
  c["locality"] = e.consensus.locality;
  c["entropy"] = e.consensus.entropy;
  c["trace"] = optional_int<Json>(e.consensus.trace);
  j["consensus"] = std::move(c);
  return j;
}

template <typename Json>
Json ratio_json(const analysis::RatioTest& t) {
  Json j = Json::object();
  j["value"] = number<Json>(t.value);
  j["ci95"] = pair<Json>(t.lo, t.hi);
  j["p_value_vs_half"] = number<Json>(t.p_value);
  return j;
}

template <typename Json>
Json corpus_json(const CorpusSummary& c) {
  Json j = Json::object();
  j["file"] = c.file;
  j["n_texts"] = c.n_texts;
  j["n_skipped_short"] = c.n_skipped_short;
  j["n_truncated"] = c.n_truncated;
  j["n_tokens"] = c.n_tokens;
  j["max_tokens"] = c.max_tokens > 0 ? Json(c.max_tokens) : Json(nullptr);
  j["bootstrap"] = c.bootstrap;
  j["seed"] = c.seed;
  const auto& ls = c.l_star;
  Json jl = Json::object();
  jl["mode"] = ls.mode;
  jl["ci95"] = Json::array({ls.ci_lo, ls.ci_hi});
  jl["counts"] = ls.counts;
  jl["mean_profile"] = ls.mean_profile;
  jl["mean"] = number<Json>(ls.mean);
  jl["mode_ci95"] = Json::array({ls.mode_ci_lo, ls.mode_ci_hi});
  jl["bootstrap_counts"] = ls.bootstrap_counts;
  j["L_star_empirical"] = std::move(jl);
  j["L_star_ratio"] = ratio_json<Json>(c.l_star_ratio);
  Json profile = Json::array();
  for (const auto& l : c.profile) {
    Json jp = Json::object();
    jp["index"] = l.index;
    auto put = [&](const char* name, const analysis::MeanCi& m) {
      jp[std::string(name) + "_mean"] = number<Json>(m.mean);
      jp[std::string(name) + "_ci95"] = pair<Json>(m.lo, m.hi);
    };
    put("locality", l.locality);
    put("entropy", l.entropy);
    put("sink_mass", l.sink_mass);
    put("locality_no_sink", l.locality_no_sink);
    put("entropy_no_sink", l.entropy_no_sink);
    put("row_entropy_mean", l.row_entropy_mean);
    put("sheaf_trace", l.sheaf_trace);
    put("sheaf_trace_per_token", l.sheaf_trace_per_token);
    Json heads = Json::array();
    for (const auto& h : l.heads) {
      Json jh = Json::object();
      jh["locality_mean"] = number<Json>(h.locality);
      jh["entropy_mean"] = number<Json>(h.entropy);
      heads.push_back(std::move(jh));
    }
    jp["heads"] = std::move(heads);
    profile.push_back(std::move(jp));
  }
  j["profile"] = std::move(profile);
  return j;
}

// --loss: the mean next-token cross-entropy, its perplexity, the predictions it averages and,
// in a corpus run, the 95% bootstrap interval of the mean over texts.
template <typename Json>
Json loss_json(const ModelReport& m) {
  Json j = Json::object();
  j["nats_per_token"] = number<Json>(*m.loss);
  j["perplexity"] = number<Json>(std::exp(*m.loss));
  j["n_predictions"] = m.n_predictions;
  if (m.corpus && m.corpus->loss) {
    j["ci95"] = pair<Json>(m.corpus->loss->lo, m.corpus->loss->hi);
    j["over"] = "texts: the mean of each text's mean loss";
  }
  return j;
}

// One layer's signature: DESIGN.md's fields, the sink-aware ones, then the heads.
// (Per-text lines leave out value_frob_sq: it is the model's, not the text's.)
template <typename Json>
Json layer_json(const LayerSignature& l, bool with_value_frob_sq) {
  Json jl = Json::object();
  jl["index"] = l.index;
  for (const auto& f : metrics::kLayerFields) {
    if (f.per_text || with_value_frob_sq) jl[f.name] = number<Json>(l.*f.member);
  }
  Json heads = Json::array();
  for (const auto& h : l.heads) {
    Json jh = Json::object();
    jh["locality"] = number<Json>(h.locality);
    jh["entropy"] = number<Json>(h.entropy);
    heads.push_back(std::move(jh));
  }
  jl["heads"] = std::move(heads);
  return jl;
}

template <typename Json>
Json build(const AnalysisReport& r) {
  Json j = Json::object();
  j["bentov_version"] = r.bentov_version;
  j["text"] = r.text ? Json(*r.text) : Json(nullptr);
  Json models = Json::array();
  for (const auto& m : r.models) {
    Json jm = Json::object();
    jm["name"] = m.name;
    jm["source"] = m.source;
    jm["architecture"] = m.architecture;
    jm["n_layers"] = m.n_layers;
    jm["n_heads"] = m.n_heads;
    Json ids = Json::array();
    for (int32_t id : m.token_ids) ids.push_back(id);
    jm["token_ids"] = std::move(ids);
    if (!m.weight_widening.empty()) jm["weight_widening"] = m.weight_widening;
    jm["L_star_theoretical"] = m.l_star_theoretical;
    jm["L_star_empirical"] = m.l_star_empirical;
    jm["deviation"] = m.deviation;
    Json layers = Json::array();
    for (const auto& l : m.layers) layers.push_back(layer_json<Json>(l, /*with_value_frob_sq=*/true));
    jm["layers"] = std::move(layers);
    if (m.estimators) jm["estimators"] = estimators_json<Json>(*m.estimators);
    if (m.corpus) jm["corpus"] = corpus_json<Json>(*m.corpus);
    if (m.loss) jm["loss"] = loss_json<Json>(m);
    models.push_back(std::move(jm));
  }
  j["models"] = std::move(models);
  Json failures = Json::array();
  for (const auto& f : r.failures) {
    Json jf = Json::object();
    jf["source"] = f.source;
    jf["error"] = f.failure.line();
    failures.push_back(std::move(jf));
  }
  j["failures"] = std::move(failures);
  j["mean_deviation"] = r.mean_deviation ? number<Json>(*r.mean_deviation) : Json(nullptr);
  if (r.corpus_file) j["corpus_file"] = *r.corpus_file;
  if (r.cross_model) {
    Json c = Json::object();
    Json per = Json::array();
    for (const auto& m : r.models) {
      if (!m.corpus) continue;
      Json jm = ratio_json<Json>(m.corpus->l_star_ratio);
      jm["name"] = m.name;
      per.push_back(std::move(jm));
    }
    c["L_star_ratio"] = std::move(per);
    c["mean_L_star_ratio"] = ratio_json<Json>(r.cross_model->mean_ratio);
    c["test"] =
        "two-sided bootstrap test of L*/L = 0.5 (L* of the mean locality profile; texts "
        "resampled with replacement, the same resamples for every model)";
    j["cross_model"] = std::move(c);
  }
  return j;
}

}  // namespace

std::string per_text_json_line(const std::string& model, const analysis::TextSignature& t) {
  using Json = nlohmann::ordered_json;
  Json j = Json::object();
  j["model"] = model;
  j["line"] = t.line;
  j["n_tokens"] = t.n_tokens;
  j["truncated"] = t.truncated;
  j["L_star_empirical"] = t.l_star;
  if (t.loss) j["loss"] = number<Json>(*t.loss);
  Json layers = Json::array();
  for (const auto& l : t.layers) layers.push_back(layer_json<Json>(l, /*with_value_frob_sq=*/false));
  j["layers"] = std::move(layers);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

nlohmann::json to_json(const AnalysisReport& report) { return build<nlohmann::json>(report); }

std::string to_json_string(const AnalysisReport& report) {
  const auto j = build<nlohmann::ordered_json>(report);
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void write_json(const std::filesystem::path& path, const AnalysisReport& report) {
  io::write_file_atomic(path, to_json_string(report));
}

}  // namespace bentov::report
