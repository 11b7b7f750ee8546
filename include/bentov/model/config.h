// The resolved model configuration: everything the generic decoder needs, with defaults
// filled in once by the architecture's resolver (model/archs/*.cpp). Two-stage config as in
// candle's `into_config`: config.json (raw, optional fields) -> ModelConfig (complete).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bentov {

enum class NormKind { kLayerNorm, kRmsNorm };  // LayerNorm (GPT-2, NeoX, OPT) or RMSNorm (Llama family)
enum class NormPlacement { kPre, kPost };               // pre-LN (GPT-2, Pythia, OPT-125m) or post-LN (OPT-350m)
enum class PositionKind { kLearned, kRotary };
enum class Activation { kGeluErf, kGeluTanh, kRelu, kSilu };  // "gelu", "gelu_new", "relu", "silu"
// Rotary frequency schedules of transformers' modeling_rope_utils (ROPE_INIT_FUNCTIONS).
enum class RopeType { kDefault, kLinear, kLlama3 };
enum class QkvLayout {
  // (n, H*dh + 2*KV*dh) columns Q | K | V: query head h at h*dh, its key/value head
  // h / (H / KV) inside the K and V blocks (GPT-2 c_attn, OPT and Llama q/k/v projections).
  kBlocks,
  // (n, 3*H*dh) columns per head [q_h | k_h | v_h] at h*3*dh (GPT-NeoX query_key_value).
  kPerHeadFused,
};

struct ModelConfig {
  std::string architecture;   // registry key: "gpt2", "gpt_neox", "opt", "llama", "mistral", "qwen2"
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
  NormPlacement norm_placement = NormPlacement::kPre;
  bool final_norm = true;       // a final LayerNorm after the last layer
  bool parallel_residual = false;
  PositionKind positions = PositionKind::kLearned;
  int rotary_dims = 0;          // rotate-half rotary on the first rotary_dims dims of each head
  double rope_theta = 10000.0;
  RopeType rope_type = RopeType::kDefault;
  double rope_factor = 1.0;                 // linear and llama3
  double rope_low_freq_factor = 1.0;        // llama3
  double rope_high_freq_factor = 4.0;       // llama3
  int rope_original_max_positions = 8192;   // llama3
  bool gated_mlp = false;                   // down(act(gate(x)) * up(x)) (Llama SwiGLU)
  std::vector<int> sliding_window;          // (n_layers) keys within this distance; 0 = full attention
  Activation activation = Activation::kGeluErf;
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
};

// Reads `folder/config.json` and resolves it through the registry. Throws ConfigError /
// UnsupportedError naming the file.
ModelConfig load_model_config(const std::filesystem::path& folder);

}  // namespace bentov
