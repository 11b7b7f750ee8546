// The Llama family (transformers models/llama/modeling_llama.py, mistral/modeling_mistral.py,
// qwen2/modeling_qwen2.py): RMSNorm, rotary on all head dims (rope_theta; rope_scaling
// default, linear and llama3), grouped-query attention (num_key_value_heads), SwiGLU MLP,
// Qwen2's q/k/v biases, Mistral's (and Qwen2's optional) sliding-window attention.
#include "../config_json.h"
#include "archs.h"
#include "bentov/error.h"

namespace bentov::archs {
namespace cj = config_json;

namespace {

// rope_parameters (current transformers) or rope_scaling (hub era) with rope_theta beside it.
void resolve_rope(const nlohmann::json& j, ModelConfig& c) {
  const nlohmann::json* rope = nullptr;
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) rope = &j["rope_parameters"];
  if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) rope = &j["rope_scaling"];
  c.rope_theta = cj::get_number(j, "rope_theta").value_or(10000.0);
  double partial = cj::get_number(j, "partial_rotary_factor").value_or(1.0);
  if (rope) {
    c.rope_theta = cj::get_number(*rope, "rope_theta").value_or(c.rope_theta);
    partial = cj::get_number(*rope, "partial_rotary_factor").value_or(partial);
    const auto type = cj::get_string(*rope, "rope_type").value_or(cj::get_string(*rope, "type").value_or("default"));
    if (type == "linear") {
      c.rope_type = RopeType::kLinear;
    } else if (type == "llama3") {
      c.rope_type = RopeType::kLlama3;
      c.rope_low_freq_factor = cj::get_number(*rope, "low_freq_factor").value_or(1.0);
      c.rope_high_freq_factor = cj::get_number(*rope, "high_freq_factor").value_or(4.0);
      c.rope_original_max_positions =
          cj::require_size(*rope, "original_max_position_embeddings", cj::kMaxPositions);
      if (!(c.rope_high_freq_factor > c.rope_low_freq_factor)) {
        throw ConfigError("config.json: llama3 rope needs high_freq_factor > low_freq_factor",
                          "the rope_scaling block is corrupt");
      }
    } else if (type != "default") {
      throw UnsupportedError("config.json: rope type '" + type + "' is not supported",
                             "bentov supports the default, linear and llama3 rotary schedules");
    }
    if (c.rope_type != RopeType::kDefault) {
      c.rope_factor = cj::get_number(*rope, "factor").value_or(1.0);
      if (!(c.rope_factor > 0.0)) throw ConfigError("config.json: rope factor must be positive", "");
    }
  }
  if (!(c.rope_theta > 0.0) || !(partial > 0.0 && partial <= 1.0)) {
    throw ConfigError("config.json: rope_theta or partial_rotary_factor out of range", "the config.json is corrupt");
  }
  c.rotary_dims = static_cast<int>(c.head_dim * partial);
  c.rotary_dims -= c.rotary_dims % 2;
}

// Mistral: sliding_window on every layer when set. Qwen2: only with use_sliding_window, on the
// layers that `layer_types` marks "sliding_attention" (else from max_window_layers on).
void resolve_sliding_window(const nlohmann::json& j, ModelConfig& c) {
  const auto window = cj::get_int(j, "sliding_window");
  if (!window || *window <= 0) return;
  if (*window > cj::kMaxPositions) throw ConfigError("config.json: sliding_window is absurdly large", "");
  bool used = c.architecture == "mistral";
  if (c.architecture == "qwen2") used = cj::get_bool(j, "use_sliding_window").value_or(false);
  if (auto lt = j.find("layer_types"); lt != j.end() && lt->is_array()) {
    if (lt->size() != static_cast<std::size_t>(c.n_layers)) {
      throw ConfigError("config.json: layer_types has " + std::to_string(lt->size()) + " entries for " +
                            std::to_string(c.n_layers) + " layers",
                        "the config.json is corrupt");
    }
    c.sliding_window.assign(static_cast<std::size_t>(c.n_layers), 0);
    for (std::size_t l = 0; l < lt->size(); ++l) {
      if ((*lt)[l] == "sliding_attention") c.sliding_window[l] = static_cast<int>(*window);
    }
    return;
  }
  if (!used) return;
  const int from = c.architecture == "qwen2" ? cj::optional_size(j, "max_window_layers", 0, cj::kMaxLayers) : 0;
  c.sliding_window.assign(static_cast<std::size_t>(c.n_layers), 0);
  for (int l = from; l < c.n_layers; ++l) c.sliding_window[static_cast<std::size_t>(l)] = static_cast<int>(*window);
}

ModelConfig resolve(const nlohmann::json& j, const std::string& family) {
  ModelConfig c;
  c.architecture = family;
  c.n_layers = cj::require_size(j, "num_hidden_layers", cj::kMaxLayers);
  c.n_heads = cj::require_size(j, "num_attention_heads", cj::kMaxHeads);
  c.n_kv_heads = cj::optional_size(j, "num_key_value_heads", c.n_heads, cj::kMaxHeads);
  c.hidden_size = cj::require_size(j, "hidden_size", cj::kMaxHidden);
  if (c.n_heads % c.n_kv_heads != 0) {
    throw ConfigError("config.json: " + std::to_string(c.n_heads) + " attention heads are not a multiple of " +
                          std::to_string(c.n_kv_heads) + " key/value heads",
                      "the config.json is corrupt");
  }
  if (j.contains("head_dim") && !j["head_dim"].is_null()) {
    c.head_dim = cj::require_size(j, "head_dim", cj::kMaxHidden);
  } else {
    check_heads(c);
    c.head_dim = c.hidden_size / c.n_heads;
  }
  c.intermediate_size = cj::require_size(j, "intermediate_size", cj::kMaxHidden * 8);
  c.vocab_size = cj::require_size(j, "vocab_size", cj::kMaxVocab);
  c.max_positions = cj::optional_size(j, "max_position_embeddings", 2048, cj::kMaxPositions);
  c.word_embed_dim = c.hidden_size;
  c.norm_eps = cj::get_number(j, "rms_norm_eps").value_or(1e-6);
  c.norm_kind = NormKind::kRmsNorm;
  c.positions = PositionKind::kRotary;
  c.qkv_layout = QkvLayout::kBlocks;
  c.gated_mlp = true;
  const auto act = cj::get_string(j, "hidden_act").value_or("silu");
  if (act != "silu") {
    throw UnsupportedError("config.json: hidden_act '" + act + "' is not supported for " + family,
                           "bentov supports SwiGLU (silu) MLPs in the Llama family");
  }
  c.activation = Activation::kSilu;
  // Llama: attention_bias on q/k/v/o, mlp_bias on the MLP; Qwen2: q/k/v biases only; Mistral: none.
  c.attention_bias = family == "qwen2" ? true : cj::get_bool(j, "attention_bias").value_or(false);
  c.mlp_bias = cj::get_bool(j, "mlp_bias").value_or(false);
  resolve_rope(j, c);
  resolve_sliding_window(j, c);
  c.tie_word_embeddings = cj::get_bool(j, "tie_word_embeddings").value_or(false);  // PretrainedConfig's default for the family
  c.dtype = cj::dtype_of(j);
  c.bos_token_id = cj::get_int(j, "bos_token_id").value_or(-1);
  return c;
}

ModelWeights bind(const io::TensorStore& store, const ModelConfig& c, WeightWidening widening) {
  // LlamaForCausalLM writes "model.layers.0...", LlamaModel "layers.0...".
  WeightBinder b(store, detect_prefix(store, {"model.", ""}, "embed_tokens.weight"), widening);
  const int d = c.hidden_size, qd = c.n_heads * c.head_dim, kvd = c.kv_heads() * c.head_dim;
  const bool qkv_bias = c.attention_bias;
  const bool o_bias = c.architecture == "llama" && c.attention_bias;
  ModelWeights w;
  w.token_embedding = &b.require_raw("embed_tokens.weight", {c.vocab_size, d});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm.weight = b.require(p + "input_layernorm.weight", {d});
    lw.mlp_norm.weight = b.require(p + "post_attention_layernorm.weight", {d});
    lw.q = bind_linear(b, p + "self_attn.q_proj", d, qd, qkv_bias);
    lw.k = bind_linear(b, p + "self_attn.k_proj", d, kvd, qkv_bias);
    lw.v = bind_linear(b, p + "self_attn.v_proj", d, kvd, qkv_bias);
    lw.attn_out = bind_linear(b, p + "self_attn.o_proj", qd, d, o_bias);
    lw.fc1 = bind_linear(b, p + "mlp.gate_proj", d, c.intermediate_size, c.mlp_bias);
    lw.up = bind_linear(b, p + "mlp.up_proj", d, c.intermediate_size, c.mlp_bias);
    lw.fc2 = bind_linear(b, p + "mlp.down_proj", c.intermediate_size, d, c.mlp_bias);
    // Each query head uses its group's value head (repeat_kv), so the value map seen by the
    // H query heads is v_proj repeated H / KV times: ||W_V||^2 = (H / KV) * ||v_proj||^2.
    const double groups = static_cast<double>(c.n_heads / c.kv_heads());
    lw.value_frob_sq = groups * frob_sq(lw.v.weight, 0, static_cast<std::size_t>(kvd) * d);
    w.layers.push_back(std::move(lw));
  }
  w.final_norm.weight = b.require("norm.weight", {d});
  w.parameter_count = b.bound_parameters();
  return w;
}

}  // namespace

ArchitectureEntry llama_entry() {
  return {"llama", {"LlamaForCausalLM", "LlamaModel"},
          [](const nlohmann::json& j) { return resolve(j, "llama"); }, bind};
}
ArchitectureEntry mistral_entry() {
  return {"mistral", {"MistralForCausalLM", "MistralModel"},
          [](const nlohmann::json& j) { return resolve(j, "mistral"); }, bind};
}
ArchitectureEntry qwen2_entry() {
  return {"qwen2", {"Qwen2ForCausalLM", "Qwen2Model"},
          [](const nlohmann::json& j) { return resolve(j, "qwen2"); }, bind};
}

}  // namespace bentov::archs
