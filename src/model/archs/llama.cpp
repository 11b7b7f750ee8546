// The Llama family (transformers models/llama/modeling_llama.py, mistral/modeling_mistral.py,
// qwen2/modeling_qwen2.py): RMSNorm, rotary on all head dims (rope_theta; rope_scaling
// default, linear and llama3), grouped-query attention (num_key_value_heads), SwiGLU MLP,
// Qwen2's q/k/v biases, Mistral's (and Qwen2's optional) sliding-window attention.
#include "../config_json.h"
#include "bentov/error.h"
#include "llama_family.h"

namespace bentov::archs {
namespace cj = config_json;

namespace {

// The layers that attend within `window`: layer_types when the config has it (current
// transformers writes it for every member), else the family's rule.
void resolve_sliding_window(const nlohmann::json& j, const LlamaTraits& t, ModelConfig& c) {
  const auto window = cj::get_int(j, "sliding_window");
  if (!window || *window <= 0) return;
  if (*window > cj::kMaxPositions) throw ConfigError("config.json: sliding_window is absurdly large", "the config.json is corrupt");
  const auto w = static_cast<int>(*window);
  if (auto lt = j.find("layer_types"); lt != j.end() && lt->is_array()) {
    if (lt->size() != static_cast<std::size_t>(c.n_layers)) {
      throw ConfigError("config.json: layer_types has " + std::to_string(lt->size()) + " entries for " +
                            std::to_string(c.n_layers) + " layers",
                        "the config.json is corrupt");
    }
    c.sliding_window.assign(static_cast<std::size_t>(c.n_layers), 0);
    for (std::size_t l = 0; l < lt->size(); ++l) {
      if ((*lt)[l] == "sliding_attention") c.sliding_window[l] = w;
    }
    return;
  }
  int from = 0, step = 1;
  switch (t.window) {
    case WindowRule::kNone: return;
    case WindowRule::kEveryLayer: break;
    case WindowRule::kOptIn:
      if (!cj::get_bool(j, "use_sliding_window").value_or(false)) return;
      from = cj::optional_size(j, "max_window_layers", 0, cj::kMaxLayers);
      break;
    case WindowRule::kEvenLayers: step = 2; break;
  }
  c.sliding_window.assign(static_cast<std::size_t>(c.n_layers), 0);
  for (int l = from; l < c.n_layers; l += step) c.sliding_window[static_cast<std::size_t>(l)] = w;
}

// gate/up/down of LlamaMLP; the o_proj bias only where the family has one.
LayerWeights bind_layer(WeightBinder& b, const ModelConfig& c, const LlamaTraits& t, int l) {
  const int d = c.hidden_size, qd = c.n_heads * c.head_dim, kvd = c.kv_heads() * c.head_dim;
  const std::string p = "layers." + std::to_string(l) + ".";
  LayerWeights lw;
  lw.attn_norm = bind_norm(b, p + "input_layernorm", d, c);
  if (c.block == BlockKind::kSandwich) {
    lw.attn_post_norm = bind_norm(b, p + "post_attention_layernorm", d, c);
    lw.mlp_norm = bind_norm(b, p + "pre_feedforward_layernorm", d, c);
    lw.mlp_post_norm = bind_norm(b, p + "post_feedforward_layernorm", d, c);
  } else {
    lw.mlp_norm = bind_norm(b, p + "post_attention_layernorm", d, c);
  }
  lw.q = bind_linear(b, p + "self_attn.q_proj", d, qd, c.attention_bias);
  lw.k = bind_linear(b, p + "self_attn.k_proj", d, kvd, c.attention_bias);
  lw.v = bind_linear(b, p + "self_attn.v_proj", d, kvd, c.attention_bias);
  lw.attn_out = bind_linear(b, p + "self_attn.o_proj", qd, d, t.o_bias && c.attention_bias);
  lw.fc1 = bind_linear(b, p + "mlp.gate_proj", d, c.intermediate_size, c.mlp_bias);
  lw.up = bind_linear(b, p + "mlp.up_proj", d, c.intermediate_size, c.mlp_bias);
  lw.fc2 = bind_linear(b, p + "mlp.down_proj", c.intermediate_size, d, c.mlp_bias);
  lw.value_frob_sq = grouped_value_frob_sq(c, lw.v);
  return lw;
}

}  // namespace

void resolve_standard_sizes(const nlohmann::json& j, ModelConfig& c) {
  c.n_layers = cj::require_size(j, "num_hidden_layers", cj::kMaxLayers);
  c.n_heads = cj::require_size(j, "num_attention_heads", cj::kMaxHeads);
  c.n_kv_heads = cj::optional_size(j, "num_key_value_heads", c.n_heads, cj::kMaxHeads);
  c.hidden_size = cj::require_size(j, "hidden_size", cj::kMaxHidden);
  check_kv_heads(c);
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
}

ModelConfig resolve_llama_family(const nlohmann::json& j, const LlamaTraits& t) {
  ModelConfig c;
  c.architecture = t.model_type;
  resolve_standard_sizes(j, c);
  c.norm_eps = cj::get_number(j, "rms_norm_eps").value_or(1e-6);
  c.norm_kind = NormKind::kRmsNorm;
  c.positions = PositionKind::kRotary;
  c.qkv_layout = QkvLayout::kBlocks;
  c.mlp = MlpKind::kGated;
  // The gate's activation (LlamaMLP act_fn = ACT2FN[hidden_act]): SwiGLU with silu.
  c.activation = parse_activation(cj::get_string(j, t.activation_key).value_or(t.activation_default), t.activation_key);
  c.attention_bias = t.qkv_bias_always || cj::get_bool(j, "attention_bias").value_or(false);
  c.mlp_bias = cj::get_bool(j, "mlp_bias").value_or(false);
  resolve_rope(j, c, RopeKeys{});
  resolve_sliding_window(j, t, c);
  c.tie_word_embeddings = cj::get_bool(j, "tie_word_embeddings").value_or(t.tie_word_embeddings);
  c.dtype = cj::dtype_of(j);
  c.bos_token_id = cj::get_int(j, "bos_token_id").value_or(-1);
  if (t.refine) t.refine(j, c);
  return c;
}

ModelWeights bind_llama_family(WeightBinder& b, const ModelConfig& c, const LlamaTraits& t) {
  // LlamaForCausalLM writes "model.layers.0...", LlamaModel "layers.0...".
  b.choose_prefix({"model.", ""}, "embed_tokens.weight");
  ModelWeights w;
  w.token_embedding = &b.require_raw("embed_tokens.weight", {c.vocab_size, c.hidden_size});
  for (int l = 0; l < c.n_layers; ++l) w.layers.push_back(bind_layer(b, c, t, l));
  w.final_norm = bind_norm(b, "norm", c.hidden_size, c);
  w.parameter_count = b.bound_parameters();
  return w;
}

ArchitectureEntry llama_family_entry(LlamaTraits traits) {
  ArchitectureEntry e;
  e.model_type = traits.model_type;
  e.class_names = traits.class_names;
  e.resolve_config = [traits](const nlohmann::json& j) { return resolve_llama_family(j, traits); };
  e.bind_weights = [traits](WeightBinder& b, const ModelConfig& c) { return bind_llama_family(b, c, traits); };
  return e;
}

std::vector<ArchitectureEntry> llama_entries() {
  LlamaTraits llama{"llama", {"LlamaForCausalLM", "LlamaModel"}};
  LlamaTraits mistral{"mistral", {"MistralForCausalLM", "MistralModel"}};
  mistral.o_bias = false;
  mistral.window = WindowRule::kEveryLayer;
  LlamaTraits qwen2{"qwen2", {"Qwen2ForCausalLM", "Qwen2Model"}};
  qwen2.qkv_bias_always = true;
  qwen2.o_bias = false;
  qwen2.window = WindowRule::kOptIn;
  return {llama_family_entry(llama), llama_family_entry(mistral), llama_family_entry(qwen2)};
}

}  // namespace bentov::archs
