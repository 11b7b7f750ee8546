// OPT (transformers models/opt/modeling_opt.py): learned positions with offset 2
// (OPTLearnedPositionalEmbedding), separate q/k/v projections with the query scaled by
// head_dim^-0.5, ReLU, pre-LN (do_layer_norm_before, 125m) or post-LN (350m, which also
// projects word embeddings in and out when word_embed_proj_dim != hidden_size).
#include "../config_json.h"
#include "archs.h"
#include "bentov/error.h"

namespace bentov::archs {
namespace cj = config_json;

namespace {

constexpr int kOptPositionOffset = 2;

ModelConfig resolve(const nlohmann::json& j) {
  ModelConfig c;
  c.architecture = "opt";
  c.n_layers = cj::require_size(j, "num_hidden_layers", cj::kMaxLayers);
  c.n_heads = cj::require_size(j, "num_attention_heads", cj::kMaxHeads);
  c.hidden_size = cj::require_size(j, "hidden_size", cj::kMaxHidden);
  check_heads(c);
  c.head_dim = c.hidden_size / c.n_heads;
  c.intermediate_size = cj::require_size(j, "ffn_dim", cj::kMaxHidden * 8);
  c.vocab_size = cj::require_size(j, "vocab_size", cj::kMaxVocab);
  c.max_positions = cj::require_size(j, "max_position_embeddings", cj::kMaxPositions);
  c.word_embed_dim = cj::optional_size(j, "word_embed_proj_dim", c.hidden_size, cj::kMaxHidden);
  c.position_offset = kOptPositionOffset;
  c.norm_eps = 1e-5;  // nn.LayerNorm default; OPT has no eps key
  const bool before = cj::get_bool(j, "do_layer_norm_before").value_or(true);
  c.block = before ? BlockKind::kPreNorm : BlockKind::kPostNorm;
  c.final_norm = before && !cj::get_bool(j, "_remove_final_layer_norm").value_or(false);
  c.attention_bias = cj::get_bool(j, "enable_bias").value_or(true);
  c.mlp_bias = c.attention_bias;
  if (!cj::get_bool(j, "layer_norm_elementwise_affine").value_or(true)) {
    throw UnsupportedError("config.json: layer_norm_elementwise_affine=false is not supported",
                           "bentov reads OPT layer norms with weights and biases");
  }
  c.activation = parse_activation(cj::get_string(j, "activation_function").value_or("relu"), "activation_function");
  c.positions = PositionKind::kLearned;
  c.qkv_layout = QkvLayout::kBlocks;
  c.tie_word_embeddings = cj::get_bool(j, "tie_word_embeddings").value_or(true);  // PretrainedConfig's default for the family
  c.dtype = cj::dtype_of(j);
  c.bos_token_id = cj::get_int(j, "bos_token_id").value_or(2);
  return c;
}

ModelWeights bind(WeightBinder& b, const ModelConfig& c) {
  // OPTForCausalLM writes "model.decoder.layers.0...", OPTModel "decoder.layers.0...".
  b.choose_prefix({"model.decoder.", "decoder.", ""}, "embed_tokens.weight");
  const int d = c.hidden_size;
  const bool bias = c.attention_bias;
  ModelWeights w;
  w.token_embedding = &b.require_raw("embed_tokens.weight", {c.vocab_size, c.word_embed_dim});
  w.position_embedding = b.require("embed_positions.weight", {c.max_positions + c.position_offset, d});
  if (c.word_embed_dim != d) {
    w.project_in = bind_linear(b, "project_in", c.word_embed_dim, d, false);
    w.project_out = bind_linear(b, "project_out", d, c.word_embed_dim, false);
  }
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm = bind_norm(b, p + "self_attn_layer_norm", d, c);
    lw.mlp_norm = bind_norm(b, p + "final_layer_norm", d, c);
    lw.q = bind_linear(b, p + "self_attn.q_proj", d, d, bias);
    lw.k = bind_linear(b, p + "self_attn.k_proj", d, d, bias);
    lw.v = bind_linear(b, p + "self_attn.v_proj", d, d, bias);
    lw.attn_out = bind_linear(b, p + "self_attn.out_proj", d, d, bias);
    lw.fc1 = bind_linear(b, p + "fc1", d, c.intermediate_size, bias);
    lw.fc2 = bind_linear(b, p + "fc2", c.intermediate_size, d, bias);
    lw.value_frob_sq = frob_sq(lw.v.weight, 0, static_cast<std::size_t>(d) * d);
    w.layers.push_back(std::move(lw));
  }
  if (c.final_norm) w.final_norm = bind_norm(b, "final_layer_norm", d, c);
  w.parameter_count = b.bound_parameters();
  return w;
}

}  // namespace

std::vector<ArchitectureEntry> opt_entries() { return {{"opt", {"OPTForCausalLM", "OPTModel"}, resolve, bind}}; }

}  // namespace bentov::archs
