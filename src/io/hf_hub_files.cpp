#include "io/hf_hub_files.h"

#include <algorithm>
#include <set>

#include "bentov/error.h"
#include "bentov/io/hf_hub.h"

namespace bentov::io::hub {

namespace {

// Read by bentov (config, tokenizer) or by transformers when it loads the same snapshot.
const char* const kSmallFiles[] = {
    "config.json",           "generation_config.json", "tokenizer.json",
    "tokenizer_config.json", "vocab.json",             "merges.txt",
    "special_tokens_map.json", "added_tokens.json",
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

FilePlan plan_files(const std::vector<std::string>& siblings, const std::string& repo_id) {
  const std::set<std::string> have(siblings.begin(), siblings.end());
  FilePlan plan;
  for (const char* f : kSmallFiles) {
    if (have.count(f)) plan.files.emplace_back(f);
  }
  if (!have.count("config.json")) {
    throw IoError("the Hub repository '" + repo_id + "' has no config.json",
                  "bentov needs a transformers checkpoint (config.json and weights)");
  }
  if (have.count("model.safetensors.index.json")) {
    plan.weights_index = "model.safetensors.index.json";
  } else if (have.count("model.safetensors")) {
    plan.weights.emplace_back("model.safetensors");
  } else {
    // Top-level safetensors under other names (a single "pytorch_model.safetensors" or the
    // like), which bentov's loader reads from the folder as they are.
    for (const auto& s : siblings) {
      if (s.find('/') == std::string::npos && ends_with(s, ".safetensors")) plan.weights.push_back(s);
    }
    if (plan.weights.empty()) {
      if (have.count("pytorch_model.bin.index.json")) {
        plan.weights_index = "pytorch_model.bin.index.json";
      } else if (have.count("pytorch_model.bin")) {
        plan.weights.emplace_back("pytorch_model.bin");
      }
    }
  }
  if (plan.weights_index.empty() && plan.weights.empty()) {
    throw IoError("the Hub repository '" + repo_id +
                      "' has no weights (model.safetensors[.index.json] or pytorch_model.bin)",
                  "bentov needs a transformers checkpoint (config.json and weights)");
  }
  return plan;
}

std::vector<std::string> index_shards(const nlohmann::json& index, const std::string& index_name) {
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw FormatError("'" + index_name + "' has no \"weight_map\" object",
                      "the index of a sharded checkpoint maps tensor names to shard files");
  }
  std::vector<std::string> shards;
  for (const auto& [tensor, file] : index["weight_map"].items()) {
    if (!file.is_string()) {
      throw FormatError("'" + index_name + "': the shard of tensor '" + tensor + "' is not a string");
    }
    const auto name = file.get<std::string>();
    check_repo_path(name);
    if (std::find(shards.begin(), shards.end(), name) == shards.end()) shards.push_back(name);
  }
  if (shards.empty()) throw FormatError("'" + index_name + "' names no shard files");
  std::sort(shards.begin(), shards.end());
  return shards;
}

}  // namespace bentov::io::hub
