// Resolving MODEL arguments: a checkpoint folder, or a Hugging Face id (`ORG/NAME[@REV]`)
// found in the local cache laid out as huggingface_hub writes it:
//   $HF_HUB_CACHE | $HF_HOME/hub | ~/.cache/huggingface/hub
//     models--ORG--NAME/refs/<rev>                  (file holding the commit hash)
//     models--ORG--NAME/snapshots/<commit>/<files>  (symlinks into blobs/)
#pragma once

#include <filesystem>
#include <string>

namespace bentov::io {

struct ResolvedModel {
  std::filesystem::path folder;  // holds config.json and weights
  std::string name;              // "pythia-160m" (with "@rev" when a revision was asked for)
  std::string source;            // the id as given, or the folder's absolute path
};

std::filesystem::path hf_hub_cache_dir();

// Throws IoError with a hint naming the cache folder searched.
ResolvedModel resolve_model(const std::string& spec);

}  // namespace bentov::io
