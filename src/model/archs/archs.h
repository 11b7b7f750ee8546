// Registration hooks of the architecture files (one per Hugging Face family).
#pragma once

#include "bentov/model/registry.h"

namespace bentov::archs {

ArchitectureEntry gpt2_entry();
ArchitectureEntry gpt_neox_entry();
ArchitectureEntry opt_entry();
ArchitectureEntry llama_entry();
ArchitectureEntry mistral_entry();
ArchitectureEntry qwen2_entry();

// Shared binding helpers.
Linear bind_linear(WeightBinder& b, const std::string& name, int in, int out, bool bias);  // nn.Linear [out, in]
Linear bind_conv1d(WeightBinder& b, const std::string& name, int in, int out);             // GPT-2 Conv1D [in, out]
LayerNormWeights bind_layer_norm(WeightBinder& b, const std::string& name, int d, bool affine = true);
void check_heads(const ModelConfig& c);
// transformers' ACT2FN names for the MLP activation: gelu (erf), gelu_new / gelu_pytorch_tanh /
// gelu_fast (tanh approximation), relu. `key` names the config field in the error.
Activation parse_activation(const std::string& name, const char* key);

}  // namespace bentov::archs
