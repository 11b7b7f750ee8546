// Architectures as data: one entry per Hugging Face family, keyed by `model_type` (and the
// `architectures[0]` class names that imply it). Each entry resolves config.json into a
// ModelConfig and binds the checkpoint's tensors to the generic decoder's weight slots.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bentov/io/safetensors.h"
#include "bentov/model/config.h"
#include "bentov/model/weights.h"

namespace bentov {

struct ArchitectureEntry {
  std::string model_type;                 // "gpt2"
  std::vector<std::string> class_names;   // "GPT2LMHeadModel", "GPT2Model", ...
  std::function<ModelConfig(const nlohmann::json&)> resolve_config;
  // Binds the checkpoint's tensors through `b` (its store, widening and prefix).
  std::function<ModelWeights(WeightBinder& b, const ModelConfig&)> bind_weights;
  // The *ForCausalLM output head's tensor names, first found wins, at the top of the file
  // ("lm_head.weight"; NeoX's hub files say "embed_out.weight", what transformers 5's
  // GPTNeoXForCausalLM.state_dict() writes says "lm_head.weight"); when none is present the
  // token embedding serves if the config ties them.
  std::vector<std::string> output_head = {"lm_head.weight"};

  // The tensors bind_weights asks for under config c, with the prefix the *ForCausalLM class
  // writes (the first that the architecture's binding tries).
  std::vector<TensorEntry> tensor_table(const ModelConfig& c) const;
};

const std::vector<ArchitectureEntry>& architecture_registry();
// Finds the entry for a config.json; throws UnsupportedError listing the known families.
const ArchitectureEntry& find_architecture(const nlohmann::json& config);

// folder/config.json read once: the resolved config and the entry that resolved it (whose
// bind_weights loads the checkpoint). load_model_config (config.h) returns the first half.
std::pair<ModelConfig, const ArchitectureEntry*> load_model_config_and_entry(const std::filesystem::path& folder);

}  // namespace bentov
