#include "archs.h"

#include <cstring>
#include <memory>

#include "../config_json.h"
#include "bentov/error.h"

namespace bentov::archs {

Linear bind_linear(WeightBinder& b, const std::string& name, int in, int out, bool bias) {
  Linear l;
  l.in = in;
  l.out = out;
  l.in_by_out = false;
  l.weight = b.require_matrix(name + ".weight", {out, in});
  if (bias) l.bias = b.require(name + ".bias", {out});
  return l;
}

Linear bind_conv1d(WeightBinder& b, const std::string& name, int in, int out) {
  Linear l;
  l.in = in;
  l.out = out;
  l.in_by_out = true;
  l.weight = b.require_matrix(name + ".weight", {in, out});
  l.bias = b.require(name + ".bias", {out});
  return l;
}

namespace {

// t + offset as an owned float copy (GemmaRMSNorm's 1 + weight.float(), computed once).
FloatTensor shifted(const FloatTensor& t, double offset) {
  const std::size_t count = static_cast<std::size_t>(t.dim(0));
  std::shared_ptr<float[]> out(new float[count]);  // (d)
  t.read(0, count, out.get());
  for (std::size_t i = 0; i < count; ++i) out[i] += static_cast<float>(offset);
  FloatTensor s = t;
  s.raw = nullptr;
  s.owned = out;
  s.data = out.get();
  return s;
}

}  // namespace

LayerNormWeights bind_norm(WeightBinder& b, const std::string& name, int d, const ModelConfig& c, bool affine) {
  LayerNormWeights n;
  if (!affine) return n;
  n.weight = b.require(name + ".weight", {d});
  if (c.norm_kind == NormKind::kLayerNorm) n.bias = b.optional(name + ".bias", {d});
  if (c.norm_weight_offset != 0.0) n.weight = shifted(n.weight, c.norm_weight_offset);
  return n;
}

double grouped_value_frob_sq(const ModelConfig& c, const Linear& v) {
  const double groups = static_cast<double>(c.n_heads / c.kv_heads());
  return groups * frob_sq(v.weight, 0, static_cast<std::size_t>(v.out) * static_cast<std::size_t>(v.in));
}

Activation parse_activation(const std::string& name, const char* key) {
  if (name == "gelu") return Activation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::kGeluTanh;
  if (name == "relu") return Activation::kRelu;
  if (name == "silu") return Activation::kSilu;
  throw UnsupportedError(std::string("config.json: ") + key + " '" + name + "' is not supported",
                         "bentov supports gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu and silu");
}

void check_heads(const ModelConfig& c) {
  if (c.hidden_size % c.n_heads != 0) {
    throw ConfigError("config.json: hidden size " + std::to_string(c.hidden_size) +
                          " is not divisible by " + std::to_string(c.n_heads) + " heads",
                      "the config.json is corrupt");
  }
}

void check_kv_heads(const ModelConfig& c) {
  if (c.n_heads % c.kv_heads() != 0) {
    throw ConfigError("config.json: " + std::to_string(c.n_heads) + " attention heads are not a multiple of " +
                          std::to_string(c.kv_heads()) + " key/value heads",
                      "the config.json is corrupt");
  }
}

namespace {
namespace cj = config_json;

// The llama3 schedule's extra keys (_compute_llama3_parameters).
void resolve_llama3(const nlohmann::json& rope, ops::RopeSchedule& s) {
  s.low_freq_factor = cj::get_number(rope, "low_freq_factor").value_or(1.0);
  s.high_freq_factor = cj::get_number(rope, "high_freq_factor").value_or(4.0);
  s.original_max_positions = cj::require_size(rope, "original_max_position_embeddings", cj::kMaxPositions);
  if (!(s.high_freq_factor > s.low_freq_factor)) {
    throw ConfigError("config.json: llama3 rope needs high_freq_factor > low_freq_factor",
                      "the rope_scaling block is corrupt");
  }
}

// rope_type (or hub-era "type") of a rope_parameters / rope_scaling block into the schedule.
void resolve_rope_type(const nlohmann::json& rope, ops::RopeSchedule& s) {
  const auto type = cj::get_string(rope, "rope_type").value_or(cj::get_string(rope, "type").value_or("default"));
  if (type == "linear") {
    s.kind = RopeType::kLinear;
  } else if (type == "llama3") {
    s.kind = RopeType::kLlama3;
    resolve_llama3(rope, s);
  } else if (type != "default") {
    throw UnsupportedError("config.json: rope type '" + type + "' is not supported",
                           "bentov supports the default, linear and llama3 rotary schedules");
  }
  if (s.kind != RopeType::kDefault) {
    s.factor = cj::get_number(rope, "factor").value_or(1.0);
    if (!(s.factor > 0.0)) {
      throw ConfigError("config.json: rope factor must be positive", "the rope_scaling block is corrupt");
    }
  }
}

}  // namespace

void resolve_rope(const nlohmann::json& j, ModelConfig& c, const RopeKeys& keys) {
  const nlohmann::json* rope = nullptr;
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) rope = &j["rope_parameters"];
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) rope = &j["rope_scaling"];
  double theta = cj::get_number(j, keys.theta_key).value_or(10000.0);
  double partial = cj::get_number(j, keys.partial_key).value_or(keys.partial);
  if (rope) {
    theta = cj::get_number(*rope, "rope_theta").value_or(theta);
    partial = cj::get_number(*rope, "partial_rotary_factor").value_or(partial);
    resolve_rope_type(*rope, c.rope);
  }
  if (!(partial > 0.0 && partial <= 1.0) || !(theta > 0.0)) {
    throw ConfigError("config.json: rotary fraction " + std::to_string(partial) + " or base " + std::to_string(theta) +
                          " is out of range",
                      std::string(keys.partial_key) + " must be in (0, 1] and " + keys.theta_key + " positive");
  }
  c.rope.theta = theta;
  c.rotary_dims = static_cast<int>(c.head_dim * partial);  // int() truncation, as transformers
  c.rotary_dims -= c.rotary_dims % 2;
}

}  // namespace bentov::archs
