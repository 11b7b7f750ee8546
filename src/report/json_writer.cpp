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
    jm["L_star_theoretical"] = m.l_star_theoretical;
    jm["L_star_empirical"] = m.l_star_empirical;
    jm["deviation"] = m.deviation;
    Json layers = Json::array();
    for (const auto& l : m.layers) {
      Json jl = Json::object();
      jl["index"] = l.index;
      jl["locality"] = number<Json>(l.locality);
      jl["entropy"] = number<Json>(l.entropy);
      jl["sheaf_trace"] = number<Json>(l.sheaf_trace);
      jl["value_frob_sq"] = number<Json>(l.value_frob_sq);
      Json heads = Json::array();
      for (const auto& h : l.heads) {
        Json jh = Json::object();
        jh["locality"] = number<Json>(h.locality);
        jh["entropy"] = number<Json>(h.entropy);
        heads.push_back(std::move(jh));
      }
      jl["heads"] = std::move(heads);
      layers.push_back(std::move(jl));
    }
    jm["layers"] = std::move(layers);
    models.push_back(std::move(jm));
  }
  j["models"] = std::move(models);
  Json failures = Json::array();
  for (const auto& f : r.failures) {
    Json jf = Json::object();
    jf["source"] = f.source;
    jf["error"] = f.error;
    failures.push_back(std::move(jf));
  }
  j["failures"] = std::move(failures);
  j["mean_deviation"] = r.mean_deviation ? number<Json>(*r.mean_deviation) : Json(nullptr);
  return j;
}

}  // namespace

nlohmann::json to_json(const AnalysisReport& report) { return build<nlohmann::json>(report); }

std::string to_json_string(const AnalysisReport& report) {
  const auto j = build<nlohmann::ordered_json>(report);
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void write_json(const std::filesystem::path& path, const AnalysisReport& report) {
  io::write_file_atomic(path, to_json_string(report));
}

}  // namespace bentov::report
