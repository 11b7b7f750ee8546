// GPT-2 (transformers models/gpt2/modeling_gpt2.py): learned positions, pre-LN, Conv1D
// weights stored [in, out], fused c_attn split by columns into Q | K | V, gelu_new.
#include "../config_json.h"
#include "archs.h"
#include "bentov/error.h"

namespace bentov::archs {
namespace cj = config_json;

namespace {

ModelConfig resolve(const nlohmann::json& j) {
  ModelConfig c;
  c.architecture = "gpt2";
  c.n_layers = cj::require_size_any(j, {"n_layer", "num_hidden_layers"}, cj::kMaxLayers);
  c.n_heads = cj::require_size_any(j, {"n_head", "num_attention_heads"}, cj::kMaxHeads);
  c.hidden_size = cj::require_size_any(j, {"n_embd", "hidden_size"}, cj::kMaxHidden);
  check_heads(c);
  c.head_dim = c.hidden_size / c.n_heads;
  c.intermediate_size = cj::optional_size(j, "n_inner", 4 * c.hidden_size, cj::kMaxHidden * 8);
  c.vocab_size = cj::require_size(j, "vocab_size", cj::kMaxVocab);
  c.max_positions = cj::require_size_any(j, {"n_positions", "max_position_embeddings"}, cj::kMaxPositions);
  c.word_embed_dim = c.hidden_size;
  c.norm_eps = cj::get_number(j, "layer_norm_epsilon").value_or(1e-5);
  c.positions = PositionKind::kLearned;
  c.activation = parse_activation(cj::get_string(j, "activation_function").value_or("gelu_new"), "activation_function");
  c.qkv_layout = QkvLayout::kBlocks;
  c.scale_attn_by_inverse_layer_idx = cj::get_bool(j, "scale_attn_by_inverse_layer_idx").value_or(false);
  if (!cj::get_bool(j, "scale_attn_weights").value_or(true)) {
    throw UnsupportedError("config.json: scale_attn_weights=false is not supported",
                           "bentov scales attention scores by 1/sqrt(head_dim) as GPT-2 does");
  }
  c.tie_word_embeddings = cj::get_bool(j, "tie_word_embeddings").value_or(true);  // PretrainedConfig's default for the family
  c.dtype = cj::dtype_of(j);
  c.bos_token_id = cj::get_int(j, "bos_token_id").value_or(-1);
  return c;
}

ModelWeights bind(WeightBinder& b, const ModelConfig& c) {
  // GPT2Model writes "h.0...", GPT2LMHeadModel "transformer.h.0...".
  b.choose_prefix({"transformer.", ""}, "wte.weight");
  const int d = c.hidden_size;
  ModelWeights w;
  w.token_embedding = &b.require_raw("wte.weight", {c.vocab_size, d});
  w.position_embedding = b.require("wpe.weight", {c.max_positions, d});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm = bind_norm(b, p + "ln_1", d, c);
    lw.mlp_norm = bind_norm(b, p + "ln_2", d, c);
    lw.qkv = bind_conv1d(b, p + "attn.c_attn", d, 3 * d);
    lw.attn_out = bind_conv1d(b, p + "attn.c_proj", d, d);
    lw.fc1 = bind_conv1d(b, p + "mlp.c_fc", d, c.intermediate_size);
    lw.fc2 = bind_conv1d(b, p + "mlp.c_proj", c.intermediate_size, d);
    // W_V = c_attn.weight[:, 2d:3d] (Conv1D, [in, out]).
    double s = 0.0;
    for (int i = 0; i < d; ++i) {
      s += frob_sq(lw.qkv.weight, static_cast<std::size_t>(i) * 3 * d + 2 * d, static_cast<std::size_t>(d));
    }
    lw.value_frob_sq = s;
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = bind_norm(b, "ln_f", d, c);
  w.parameter_count = b.bound_parameters();
  return w;
}

}  // namespace

std::vector<ArchitectureEntry> gpt2_entries() {
  return {{"gpt2", {"GPT2LMHeadModel", "GPT2Model", "GPT2DoubleHeadsModel"}, resolve, bind}};
}

}  // namespace bentov::archs
