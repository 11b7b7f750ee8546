// The decoder layout that Llama, Mistral, Qwen2, Gemma and Gemma 2 share (transformers
// modeling_llama.py and the files that copy it): RMSNorm, rotary positions, grouped-query
// q/k/v/o projections, a gated MLP of gate/up/down projections, "model.layers.{l}" tensors.
// What tells the members apart is data, one LlamaTraits per entry.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "archs.h"

namespace bentov::archs {

// Which layers attend within config.json's sliding_window.
enum class WindowRule {
  kNone,        // none, unless layer_types says so (Llama, Gemma)
  kEveryLayer,  // every layer when sliding_window is set (Mistral)
  kOptIn,       // with use_sliding_window, from max_window_layers on (Qwen2)
  kEvenLayers,  // layers 0, 2, 4, ... (Gemma 2 without layer_types)
};

struct LlamaTraits {
  std::string model_type;                // "llama"
  std::vector<std::string> class_names;  // "LlamaForCausalLM", "LlamaModel"
  bool qkv_bias_always = false;          // q/k/v biases whatever attention_bias says (Qwen2)
  bool o_bias = true;                    // o_proj follows attention_bias (Llama, Gemma); never (Mistral, Qwen2)
  WindowRule window = WindowRule::kNone;
  bool tie_word_embeddings = false;      // the family's PretrainedConfig default
  const char* activation_key = "hidden_act";  // the MLP gate's activation, ACT2FN name
  const char* activation_default = "silu";
  // The family's own fields on top of the shared resolution (Gemma's norm offset, ...).
  std::function<void(const nlohmann::json&, ModelConfig&)> refine = nullptr;
};

// config.json -> ModelConfig for a member: sizes, grouped heads, rotary, windows, biases, the
// gated MLP's activation, then the traits' refine.
ModelConfig resolve_llama_family(const nlohmann::json& j, const LlamaTraits& traits);
// The tensors of LlamaForCausalLM / LlamaModel ("model." or no prefix). A sandwich block
// (config.block) also binds pre_feedforward_layernorm and post_feedforward_layernorm, and then
// post_attention_layernorm is the norm on the attention output (Gemma2DecoderLayer).
ModelWeights bind_llama_family(WeightBinder& b, const ModelConfig& c, const LlamaTraits& traits);
ArchitectureEntry llama_family_entry(LlamaTraits traits);

}  // namespace bentov::archs
