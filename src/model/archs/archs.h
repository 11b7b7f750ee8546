// The architecture files (one per Hugging Face family) and the helpers they share.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bentov/model/registry.h"

// Every architecture file, in registry order: X(file) stands for archs::file_entries(), defined
// in archs/file.cpp. Adding a family is a new file and its name here.
#define BENTOV_ARCHITECTURE_FILES(X) X(gpt2) X(gpt_neox) X(opt) X(llama) X(phi) X(gemma)

namespace bentov::archs {

#define BENTOV_DECLARE_ARCHITECTURE_FILE(file) std::vector<ArchitectureEntry> file##_entries();
BENTOV_ARCHITECTURE_FILES(BENTOV_DECLARE_ARCHITECTURE_FILE)
#undef BENTOV_DECLARE_ARCHITECTURE_FILE

// Shared binding helpers.
Linear bind_linear(WeightBinder& b, const std::string& name, int in, int out, bool bias);  // nn.Linear [out, in]
Linear bind_conv1d(WeightBinder& b, const std::string& name, int in, int out);             // GPT-2 Conv1D [in, out]
// A norm of width d: `name.weight` (plus `name.bias` when present, LayerNorm), its gain shifted
// by the config's norm_weight_offset. `affine` false (OPT-350m's final norm): empty.
LayerNormWeights bind_norm(WeightBinder& b, const std::string& name, int d, const ModelConfig& c, bool affine = true);
// ||W_V||^2 of separate q/k/v projections: each query head reads its group's value head
// (repeat_kv), so the value map the H query heads see is v_proj repeated H / KV times.
double grouped_value_frob_sq(const ModelConfig& c, const Linear& v);
void check_heads(const ModelConfig& c);
// Layers, heads (num_key_value_heads, head_dim when given), hidden, intermediate, vocabulary and
// position sizes under the key names current transformers configs share (Llama, Phi, Gemma).
void resolve_standard_sizes(const nlohmann::json& j, ModelConfig& c);
// H query heads as a multiple of KV key/value heads (grouped-query attention).
void check_kv_heads(const ModelConfig& c);
// transformers' ACT2FN names: gelu (erf), gelu_new / gelu_pytorch_tanh / gelu_fast (tanh
// approximation), relu, silu. `key` names the config field in the error.
Activation parse_activation(const std::string& name, const char* key);

// Where a family's config.json keeps its rotary settings besides rope_parameters (current
// transformers) or rope_scaling (hub era): the top-level keys and their defaults.
struct RopeKeys {
  const char* partial_key = "partial_rotary_factor";  // NeoX hub era: rotary_pct
  double partial = 1.0;                               // rotary fraction of each head
  const char* theta_key = "rope_theta";               // NeoX hub era: rotary_emb_base
};
// Fills c.rope and c.rotary_dims (int(head_dim * fraction), even) from the config; head_dim
// must be set. Schedules: default, linear, llama3.
void resolve_rope(const nlohmann::json& j, ModelConfig& c, const RopeKeys& keys);

}  // namespace bentov::archs
