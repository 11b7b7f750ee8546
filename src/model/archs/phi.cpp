// Phi-1, Phi-1.5 and Phi-2 (transformers models/phi/modeling_phi.py): LayerNorm, one
// input_layernorm feeding attention and MLP side by side (PhiDecoderLayer.forward:
// attn_outputs + feed_forward_hidden_states + residual), q/k/v/dense projections with biases,
// grouped-query heads, rotate-half rotary on the first int(head_dim * partial_rotary_factor)
// dims (PhiAttention), fc1 / fc2 MLP with gelu_new, final_layernorm, an lm_head with a bias.
#include "../config_json.h"
#include "archs.h"
#include "bentov/error.h"

namespace bentov::archs {
namespace cj = config_json;

namespace {

ModelConfig resolve(const nlohmann::json& j) {
  ModelConfig c;
  c.architecture = "phi";
  resolve_standard_sizes(j, c);
  c.norm_eps = cj::get_number(j, "layer_norm_eps").value_or(1e-5);
  c.block = BlockKind::kParallelSharedNorm;
  c.activation = parse_activation(cj::get_string(j, "hidden_act").value_or("gelu_new"), "hidden_act");
  if (cj::get_bool(j, "qk_layernorm").value_or(false)) {
    throw UnsupportedError("config.json: qk_layernorm=true is not supported",
                           "bentov reads Phi checkpoints without per-head query/key layer norms");
  }
  c.positions = PositionKind::kRotary;
  c.qkv_layout = QkvLayout::kBlocks;
  resolve_rope(j, c, RopeKeys{"partial_rotary_factor", 0.5, "rope_theta"});
  c.tie_word_embeddings = cj::get_bool(j, "tie_word_embeddings").value_or(false);  // PhiConfig's default
  c.dtype = cj::dtype_of(j);
  c.bos_token_id = cj::get_int(j, "bos_token_id").value_or(-1);
  return c;
}

ModelWeights bind(WeightBinder& b, const ModelConfig& c) {
  // PhiForCausalLM writes "model.layers.0...", PhiModel "layers.0...".
  b.choose_prefix({"model.", ""}, "embed_tokens.weight");
  const int d = c.hidden_size, kvd = c.kv_heads() * c.head_dim;
  ModelWeights w;
  w.token_embedding = &b.require_raw("embed_tokens.weight", {c.vocab_size, d});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm = bind_norm(b, p + "input_layernorm", d, c);
    lw.q = bind_linear(b, p + "self_attn.q_proj", d, d, true);
    lw.k = bind_linear(b, p + "self_attn.k_proj", d, kvd, true);
    lw.v = bind_linear(b, p + "self_attn.v_proj", d, kvd, true);
    lw.attn_out = bind_linear(b, p + "self_attn.dense", d, d, true);
    lw.fc1 = bind_linear(b, p + "mlp.fc1", d, c.intermediate_size, true);
    lw.fc2 = bind_linear(b, p + "mlp.fc2", c.intermediate_size, d, true);
    lw.value_frob_sq = grouped_value_frob_sq(c, lw.v);
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = bind_norm(b, "final_layernorm", d, c);
  w.parameter_count = b.bound_parameters();
  return w;
}

}  // namespace

std::vector<ArchitectureEntry> phi_entries() { return {{"phi", {"PhiForCausalLM", "PhiModel"}, resolve, bind}}; }

}  // namespace bentov::archs
