// A minimal config.json body for every registered architecture (model_type added by the
// caller): the tests that loop over the registry fail for a family missing here.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace bentov::testing {

inline std::map<std::string, nlohmann::json> minimal_configs() {
  using nlohmann::json;
  std::map<std::string, json> minimal = {
      {"gpt2", {{"n_embd", 64}, {"n_layer", 2}, {"n_head", 4}, {"vocab_size", 100}, {"n_positions", 64}}},
      {"gpt_neox", {{"hidden_size", 64}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
                    {"vocab_size", 100}, {"max_position_embeddings", 64}}},
      {"opt", {{"hidden_size", 64}, {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"ffn_dim", 128},
               {"vocab_size", 100}, {"max_position_embeddings", 64}}},
  };
  const json llama_like = {{"hidden_size", 64}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
                           {"num_key_value_heads", 2}, {"intermediate_size", 128}, {"vocab_size", 100}};
  for (const char* family : {"llama", "mistral", "qwen2", "phi", "gemma", "gemma2"}) minimal[family] = llama_like;
  return minimal;
}

}  // namespace bentov::testing
