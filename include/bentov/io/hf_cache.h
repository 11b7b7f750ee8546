// Resolving MODEL arguments: a checkpoint folder, or a Hugging Face id (`ORG/NAME[@REV]`)
// found in the local cache laid out as huggingface_hub writes it:
//   $HF_HUB_CACHE | $HF_HOME/hub | ~/.cache/huggingface/hub
//     models--ORG--NAME/refs/<rev>                  (file holding the commit hash)
//     models--ORG--NAME/snapshots/<commit>/<files>  (relative symlinks into blobs/)
//     models--ORG--NAME/blobs/<etag>                (file contents, named by their ETag)
// An id missing from the cache is downloaded from the Hub (io/hf_hub.h) unless downloads are
// off (--offline, HF_HUB_OFFLINE=1). The cache is always looked at first: a model already
// there is used without contacting the network.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace bentov::io {

struct ResolvedModel {
  std::filesystem::path folder;  // holds config.json and weights
  std::string name;              // "pythia-160m" (with "@rev" when a revision was asked for)
  std::string source;            // the id as given, or the folder's absolute path
};

// A Hugging Face model id split into its parts; every part is one safe path component.
struct HubId {
  std::string org;       // "EleutherAI"; empty for legacy ids without an organisation ("gpt2")
  std::string name;      // "pythia-160m"
  std::string revision;  // as given after '@'; empty means "main"

  std::string repo_id() const { return org.empty() ? name : org + "/" + name; }
  std::string rev() const { return revision.empty() ? "main" : revision; }
  // "models--EleutherAI--pythia-160m", the repository's folder in the cache.
  std::string cache_folder_name() const {
    return "models--" + (org.empty() ? name : org + "--" + name);
  }
};

// Parses "ORG/NAME[@REV]" or "NAME[@REV]"; nullopt when `spec` cannot be an id (empty parts,
// "..", more than one '/', backslashes).
std::optional<HubId> parse_hub_id(const std::string& spec);

// True for a 40-hex-digit git commit hash.
bool is_commit_hash(const std::string& s);

std::filesystem::path hf_hub_cache_dir();

// How resolve_model may reach the Hub when the cache lacks a model.
struct ResolveOptions {
  bool allow_download = true;  // false: cache only (--offline); HF_HUB_OFFLINE=1 also forbids
  bool progress = true;        // download progress bars on stderr
};

// Throws IoError with a hint naming the cache folder searched; download failures propagate
// the downloader's errors (io/hf_hub.h). Callers pass their options down (analysis::RunOptions
// carries them for the engine).
ResolvedModel resolve_model(const std::string& spec, const ResolveOptions& options);

// The cached snapshot of `id` if its ref (or commit) and snapshot folder exist; nullopt
// otherwise. `complete` tells whether it holds config.json and weights (every shard of
// a safetensors index, else some *.safetensors or pytorch_model*.bin).
struct CachedSnapshot {
  std::filesystem::path folder;
  std::string commit;
  bool complete = false;
};
std::optional<CachedSnapshot> find_cached_snapshot(const HubId& id);

}  // namespace bentov::io
