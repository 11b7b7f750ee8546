#include "bentov/distrib/item_result.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "bentov/error.h"

namespace bentov::distrib {
using nlohmann::json;
using metrics::HeadSignature;
using metrics::LayerSignature;

// Every field of LayerSignature travels, in metrics::kLayerFields order (signature.h checks
// that the table covers the struct).
static_assert(sizeof(HeadSignature) == 2 * sizeof(double), "HeadSignature changed: see distrib/item_result.cpp");

namespace {

json num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

double get_num(const json& j) {
  if (j.is_number()) return j.get<double>();
  const auto s = j.get<std::string>();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  throw FormatError("'" + s + "' is not a number");
}

// [index, each field of kLayerFields, [[head locality, head entropy], ...]]
constexpr std::size_t kLayerValues = metrics::kLayerFields.size() + 2;

json layer_to_json(const LayerSignature& l) {
  json a = json::array({l.index});
  for (const auto& f : metrics::kLayerFields) a.push_back(num(l.*f.member));
  json heads = json::array();
  for (const auto& h : l.heads) heads.push_back(json::array({num(h.locality), num(h.entropy)}));
  a.push_back(std::move(heads));
  return a;
}

LayerSignature layer_from_json(const json& j) {
  if (!j.is_array() || j.size() != kLayerValues) {
    throw FormatError("a layer must be an array of " + std::to_string(kLayerValues) + " values");
  }
  LayerSignature l{};
  l.index = j[0].get<int>();
  for (std::size_t f = 0; f < metrics::kLayerFields.size(); ++f) l.*metrics::kLayerFields[f].member = get_num(j[f + 1]);
  for (const auto& h : j[kLayerValues - 1]) l.heads.push_back(HeadSignature{get_num(h.at(0)), get_num(h.at(1))});
  return l;
}

json layers_to_json(const std::vector<LayerSignature>& layers) {
  json a = json::array();
  for (const auto& l : layers) a.push_back(layer_to_json(l));
  return a;
}

std::vector<LayerSignature> layers_from_json(const json& j) {
  std::vector<LayerSignature> out;
  for (const auto& l : j) out.push_back(layer_from_json(l));
  return out;
}

}  // namespace

std::string encode_result(std::size_t item, const ItemResult& r) {
  json j = json::object();
  j["item"] = item;
  j["error"] = r.error ? json(r.error->message) : json(nullptr);
  if (r.error) j["hint"] = r.error->hint;
  const auto& m = r.model;
  j["model"] = {{"name", m.name},
                {"source", m.source},
                {"architecture", m.architecture},
                {"n_layers", m.n_layers},
                {"n_heads", m.n_heads},
                {"token_ids", m.token_ids},
                {"weight_widening", m.weight_widening},
                {"layers", layers_to_json(m.layers)}};
  json frob = json::array();
  for (double v : r.value_frob_sq) frob.push_back(num(v));
  j["value_frob_sq"] = std::move(frob);
  json texts = json::array();
  for (const auto& t : r.texts.texts) {
    texts.push_back({{"line", t.line},
                     {"n_tokens", t.n_tokens},
                     {"truncated", t.truncated},
                     {"l_star", t.l_star},
                     {"layers", layers_to_json(t.layers)}});
  }
  j["texts"] = std::move(texts);
  j["skipped"] = r.texts.skipped;
  j["truncated"] = r.texts.truncated;
  // Invalid UTF-8 in a message (a file name) is replaced rather than failing the run.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ItemResult decode_result(std::string_view bytes, const std::string& where, std::size_t* item) {
  try {
    const json j = json::parse(bytes);
    ItemResult r;
    if (item) *item = j.at("item").get<std::size_t>();
    if (!j.at("error").is_null()) {
      r.error = analysis::Failure{j.at("error").get<std::string>(), j.value("hint", std::string())};
    }
    const auto& m = j.at("model");
    r.model.name = m.at("name").get<std::string>();
    r.model.source = m.at("source").get<std::string>();
    r.model.architecture = m.at("architecture").get<std::string>();
    r.model.n_layers = m.at("n_layers").get<int>();
    r.model.n_heads = m.at("n_heads").get<int>();
    r.model.token_ids = m.at("token_ids").get<std::vector<std::int32_t>>();
    r.model.weight_widening = m.value("weight_widening", std::string());
    r.model.layers = layers_from_json(m.at("layers"));
    for (const auto& v : j.at("value_frob_sq")) r.value_frob_sq.push_back(get_num(v));
    for (const auto& t : j.at("texts")) {
      analysis::TextSignature ts;
      ts.line = t.at("line").get<int>();
      ts.n_tokens = t.at("n_tokens").get<int>();
      ts.truncated = t.at("truncated").get<bool>();
      ts.l_star = t.at("l_star").get<int>();
      ts.layers = layers_from_json(t.at("layers"));
      r.texts.texts.push_back(std::move(ts));
    }
    r.texts.skipped = j.at("skipped").get<int>();
    r.texts.truncated = j.at("truncated").get<int>();
    return r;
  } catch (const json::exception& e) {
    throw FormatError(where + ": malformed work-item result: " + e.what(),
                      "delete it to run that item again");
  } catch (const Error& e) {
    throw FormatError(where + ": malformed work-item result: " + e.what(), "delete it to run that item again");
  }
}

}  // namespace bentov::distrib
