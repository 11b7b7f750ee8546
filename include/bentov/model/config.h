// The resolved model configuration: everything the generic decoder needs, with defaults
// filled in once by the architecture's resolver (model/archs/*.cpp). Two-stage config as in
// candle's `into_config`: config.json (raw, optional fields) -> ModelConfig (complete).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bentov/ops/rope.h"

namespace bentov {

enum class NormKind { kLayerNorm, kRmsNorm };  // LayerNorm (GPT-2, NeoX, OPT, Phi) or RMSNorm (Llama, Gemma)
// How a layer's two sublayers meet the residual stream x; N1..N4 are the layer's norms
// (LayerWeights attn_norm, mlp_norm, attn_post_norm, mlp_post_norm).
enum class BlockKind {
  kPreNorm,             // x += attn(N1(x)); x += mlp(N2(x))            GPT-2, OPT-125m, Llama, Gemma
  kPostNorm,            // x = N1(x + attn(x)); x = N2(x + mlp(x))      OPT-350m
  kParallel,            // x += attn(N1(x)) + mlp(N2(x))                GPT-NeoX use_parallel_residual
  kParallelSharedNorm,  // h = N1(x); x += attn(h) + mlp(h)             Phi
  kSandwich,            // x += N3(attn(N1(x))); x += N4(mlp(N2(x)))   Gemma 2
};
enum class MlpKind {
  kPlain,  // fc2(act(fc1(x)))
  kGated,  // down(act(gate(x)) * up(x)): SwiGLU (Llama, act silu), GeGLU (Gemma, act tanh GELU)
};
enum class PositionKind { kLearned, kRotary };
// ACT2FN: "gelu" (erf), "gelu_new" / "gelu_pytorch_tanh" / "gelu_fast" (tanh), "relu", "silu".
enum class Activation { kGeluErf, kGeluTanh, kRelu, kSilu };
using RopeType = ops::RopeSchedule::Kind;
enum class QkvLayout {
  // (n, H*dh + 2*KV*dh) columns Q | K | V: query head h at h*dh, its key/value head
  // h / (H / KV) inside the K and V blocks (GPT-2 c_attn, OPT and Llama q/k/v projections).
  kBlocks,
  // (n, 3*H*dh) columns per head [q_h | k_h | v_h] at h*3*dh (GPT-NeoX query_key_value).
  kPerHeadFused,
};

struct ModelConfig {
  std::string architecture;   // registry key (model_type): "gpt2", "gpt_neox", "llama", "phi", "gemma2", ...
  std::string model_class;    // architectures[0] from config.json, when present
  int n_layers = 0;
  int n_heads = 0;            // H query heads
  int n_kv_heads = 0;         // KV key/value heads (grouped-query attention when < H)
  int hidden_size = 0;        // d
  int head_dim = 0;           // dh (d / H unless the config says head_dim)
  int intermediate_size = 0;  // MLP width
  int vocab_size = 0;
  int max_positions = 0;      // longest sequence the positional scheme supports
  int word_embed_dim = 0;     // OPT word_embed_proj_dim (== hidden_size unless project_in/out)
  int position_offset = 0;    // OPT: learned position row = position + 2
  double norm_eps = 1e-5;
  NormKind norm_kind = NormKind::kLayerNorm;
  // Stored norm gains are offsets from this: the norms scale by (offset + w), Gemma's 1 + w
  // (GemmaRMSNorm). Applied once when the weights are bound.
  double norm_weight_offset = 0.0;
  BlockKind block = BlockKind::kPreNorm;
  bool final_norm = true;       // a final norm after the last layer
  // Token rows times this before the first layer (Gemma: sqrt(hidden_size), in the activations'
  // dtype); 1 = none.
  double embedding_scale = 1.0;
  PositionKind positions = PositionKind::kLearned;
  int rotary_dims = 0;          // rotate-half rotary on the first rotary_dims dims of each head
  ops::RopeSchedule rope;       // theta and frequency schedule of the rotary positions
  MlpKind mlp = MlpKind::kPlain;
  std::vector<int> sliding_window;          // (n_layers) keys within this distance; 0 = full attention
  Activation activation = Activation::kGeluErf;
  // Scores are q . k times this; 0 = head_dim^-0.5 (Gemma 2: query_pre_attn_scalar^-0.5).
  double query_scale = 0.0;
  double attn_logit_softcap = 0.0;   // scores = cap * tanh(scores / cap) before the mask; 0 = none
  double final_logit_softcap = 0.0;  // the same on the output head's logits (Gemma 2); 0 = none
  QkvLayout qkv_layout = QkvLayout::kBlocks;
  bool attention_bias = true;
  bool mlp_bias = true;
  bool scale_attn_by_inverse_layer_idx = false;  // GPT-2 option: scores / (layer + 1)
  bool tie_word_embeddings = false;  // the output head is the token embedding (when the file has none of its own)
  std::string dtype;            // stored weights dtype as the config states it ("float16", ...)
  std::int64_t bos_token_id = -1;

  int kv_heads() const { return n_kv_heads > 0 ? n_kv_heads : n_heads; }
  int window(int layer) const {
    return sliding_window.empty() ? 0 : sliding_window.at(static_cast<std::size_t>(layer));
  }
  // The factor on layer `layer`'s q . k scores in float32, as every backend applies it.
  float score_scale(int layer) const;
};

// Reads `folder/config.json` and resolves it through the registry. Throws ConfigError /
// UnsupportedError naming the file.
ModelConfig load_model_config(const std::filesystem::path& folder);

}  // namespace bentov
