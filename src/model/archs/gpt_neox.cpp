// GPT-NeoX / Pythia (transformers models/gpt_neox/modeling_gpt_neox.py): fused
// query_key_value laid out per head as [q_h; k_h; v_h], rotate-half rotary on the first
// rotary_ndims = int(head_dim * rotary_pct) dims (the rope_parameters schedules of
// GPTNeoXRotaryEmbedding), parallel residual when use_parallel_residual, exact erf GELU. Both
// config styles: hub-era `rotary_pct` / `rotary_emb_base` / `torch_dtype` and current
// `rope_parameters` / `dtype` (configuration_gpt_neox.py convert_rope_params_to_dict).
#include "../config_json.h"
#include "archs.h"
#include "bentov/error.h"

namespace bentov::archs {
namespace cj = config_json;

namespace {

ModelConfig resolve(const nlohmann::json& j) {
  ModelConfig c;
  c.architecture = "gpt_neox";
  c.n_layers = cj::require_size(j, "num_hidden_layers", cj::kMaxLayers);
  c.n_heads = cj::require_size(j, "num_attention_heads", cj::kMaxHeads);
  c.hidden_size = cj::require_size(j, "hidden_size", cj::kMaxHidden);
  check_heads(c);
  c.head_dim = c.hidden_size / c.n_heads;
  c.intermediate_size = cj::optional_size(j, "intermediate_size", 4 * c.hidden_size, cj::kMaxHidden * 8);
  c.vocab_size = cj::require_size(j, "vocab_size", cj::kMaxVocab);
  c.max_positions = cj::optional_size(j, "max_position_embeddings", 2048, cj::kMaxPositions);
  c.word_embed_dim = c.hidden_size;
  c.norm_eps = cj::get_number(j, "layer_norm_eps").value_or(1e-5);
  c.block = cj::get_bool(j, "use_parallel_residual").value_or(true) ? BlockKind::kParallel : BlockKind::kPreNorm;
  c.activation = parse_activation(cj::get_string(j, "hidden_act").value_or("gelu"), "hidden_act");
  c.attention_bias = cj::get_bool(j, "attention_bias").value_or(true);
  c.positions = PositionKind::kRotary;
  c.qkv_layout = QkvLayout::kPerHeadFused;

  resolve_rope(j, c, RopeKeys{"rotary_pct", 0.25, "rotary_emb_base"});
  c.tie_word_embeddings = cj::get_bool(j, "tie_word_embeddings").value_or(false);  // PretrainedConfig's default for the family
  c.dtype = cj::dtype_of(j);
  c.bos_token_id = cj::get_int(j, "bos_token_id").value_or(-1);
  return c;
}

ModelWeights bind(WeightBinder& b, const ModelConfig& c) {
  // GPTNeoXModel writes "layers.0...", GPTNeoXForCausalLM "gpt_neox.layers.0...".
  b.choose_prefix({"gpt_neox.", ""}, "embed_in.weight");
  const int d = c.hidden_size, h = c.n_heads, dh = c.head_dim;
  ModelWeights w;
  w.token_embedding = &b.require_raw("embed_in.weight", {c.vocab_size, d});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm = bind_norm(b, p + "input_layernorm", d, c);
    lw.mlp_norm = bind_norm(b, p + "post_attention_layernorm", d, c);
    lw.qkv = bind_linear(b, p + "attention.query_key_value", d, 3 * d, c.attention_bias);
    lw.attn_out = bind_linear(b, p + "attention.dense", d, d, c.attention_bias);
    lw.fc1 = bind_linear(b, p + "mlp.dense_h_to_4h", d, c.intermediate_size, true);
    lw.fc2 = bind_linear(b, p + "mlp.dense_4h_to_h", c.intermediate_size, d, true);
    // W_V: rows h*3*dh + 2*dh ... h*3*dh + 3*dh of query_key_value.weight [3d, d].
    double s = 0.0;
    for (int head = 0; head < h; ++head) {
      s += frob_sq(lw.qkv.weight, static_cast<std::size_t>(head * 3 * dh + 2 * dh) * d, static_cast<std::size_t>(dh) * d);
    }
    lw.value_frob_sq = s;
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = bind_norm(b, "final_layer_norm", d, c);
  w.parameter_count = b.bound_parameters();
  return w;
}

}  // namespace

std::vector<ArchitectureEntry> gpt_neox_entries() {
  return {{"gpt_neox", {"GPTNeoXForCausalLM", "GPTNeoXModel"}, resolve, bind, {"embed_out.weight", "lm_head.weight"}}};
}

}  // namespace bentov::archs
