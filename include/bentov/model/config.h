// The resolved model configuration: everything the generic decoder needs, with defaults
// filled in once by the architecture's resolver (model/archs/*.cpp). Two-stage config as in
// candle's `into_config`: config.json (raw, optional fields) -> ModelConfig (complete).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace bentov {

enum class NormKind { kLayerNorm };
enum class NormPlacement { kPre, kPost };               // pre-LN (GPT-2, Pythia, OPT-125m) or post-LN (OPT-350m)
enum class PositionKind { kLearned, kRotary };
enum class Activation { kGeluErf, kGeluTanh, kRelu };  // "gelu", "gelu_new"/"gelu_pytorch_tanh", "relu"
enum class QkvLayout {
  kBlocks,         // [n, 3d] columns Q | K | V, head h at h*dh inside each block (GPT-2 c_attn, OPT q/k/v)
  kPerHeadFused,   // [n, 3d] columns per head [q_h | k_h | v_h] at h*3*dh (GPT-NeoX query_key_value)
};

struct ModelConfig {
  std::string architecture;   // registry key: "gpt2", "gpt_neox", "opt"
  std::string model_class;    // architectures[0] from config.json, when present
  int n_layers = 0;
  int n_heads = 0;
  int hidden_size = 0;        // d
  int head_dim = 0;           // dh = d / n_heads
  int intermediate_size = 0;  // MLP width
  int vocab_size = 0;
  int max_positions = 0;      // longest sequence the positional scheme supports
  int word_embed_dim = 0;     // OPT word_embed_proj_dim (== hidden_size unless project_in/out)
  int position_offset = 0;    // OPT: learned position row = position + 2
  double norm_eps = 1e-5;
  NormPlacement norm_placement = NormPlacement::kPre;
  bool final_norm = true;       // a final LayerNorm after the last layer
  bool parallel_residual = false;
  PositionKind positions = PositionKind::kLearned;
  int rotary_dims = 0;          // rotate-half rotary on the first rotary_dims dims of each head
  double rope_theta = 10000.0;
  Activation activation = Activation::kGeluErf;
  QkvLayout qkv_layout = QkvLayout::kBlocks;
  bool attention_bias = true;
  bool mlp_bias = true;
  bool scale_attn_by_inverse_layer_idx = false;  // GPT-2 option: scores / (layer + 1)
  std::string dtype;            // stored weights dtype as the config states it ("float16", ...)
  std::int64_t bos_token_id = -1;
};

// Reads `folder/config.json` and resolves it through the registry. Throws ConfigError /
// UnsupportedError naming the file.
ModelConfig load_model_config(const std::filesystem::path& folder);

}  // namespace bentov
