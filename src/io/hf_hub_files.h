// Which files of a Hub repository make a bentov checkpoint: config.json, the tokenizer
// files and one set of weights, in the order of preference transformers' from_pretrained
// uses (safetensors index, single safetensors, pytorch_model.bin index, single .bin).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bentov::io::hub {

struct FilePlan {
  std::vector<std::string> files;  // config, generation config and tokenizer files present
  std::string weights_index;       // "model.safetensors.index.json" or the .bin one; may be ""
  std::vector<std::string> weights;  // single weight files when there is no index
};

// Chooses from the repository's file list (top-level names only are considered; every name
// has been checked with check_repo_path). Throws IoError when there is no config.json or no
// weights.
FilePlan plan_files(const std::vector<std::string>& siblings, const std::string& repo_id);

// The shard names of a weights index ({"weight_map": {tensor: file}}), sorted and unique,
// each checked with check_repo_path. Throws FormatError.
std::vector<std::string> index_shards(const nlohmann::json& index, const std::string& index_name);

}  // namespace bentov::io::hub
