// Downloading a model from the Hugging Face Hub into the cache layout huggingface_hub uses
// (io/hf_cache.h), so that bentov and Python tools share downloads:
//
//   GET  {endpoint}/api/models/{id}/revision/{rev}   -> {"sha": commit, "siblings": [{"rfilename"}]}
//   HEAD {endpoint}/{id}/resolve/{rev}/{file}        -> X-Repo-Commit, X-Linked-Etag | ETag,
//                                                       X-Linked-Size | Content-Length,
//                                                       302 Location (LFS files, on a CDN)
//   GET  the same URL (or the Location), with Range to resume blobs/<etag>.incomplete
//
// The file set: config.json, generation_config.json, the tokenizer files, and the weights:
// model.safetensors.index.json and its shards, else model.safetensors, else the
// pytorch_model.bin index and shards, else pytorch_model.bin. Blobs whose ETag is a sha256
// (LFS files) are hashed after download; sizes are always checked. Every file name the server
// sends is validated (relative, no "..", no empty or "." components) before it touches a path.
//
// Mirrors huggingface_hub's file_download.py (hf_hub_download, _get_metadata_or_catch_error,
// http_get with resume) and _snapshot_download.py (api sha -> refs/<rev>).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bentov/io/hf_cache.h"

namespace bentov::io {

struct HubOptions {
  std::string endpoint;             // without trailing '/'; $HF_ENDPOINT or https://huggingface.co
  std::string token;                // $HF_TOKEN (else $HUGGING_FACE_HUB_TOKEN); sent as Bearer
  std::filesystem::path cache_dir;  // hf_hub_cache_dir()
  bool offline = false;             // $HF_HUB_OFFLINE=1|true|yes|on
  bool progress = true;             // progress bars on stderr
  int max_attempts = 5;             // per file: the first try plus resumptions after a drop
};

// The options from the environment (the variables named above).
HubOptions hub_options_from_env();

// True when HF_HUB_OFFLINE asks for no network ("1", "true", "yes", "on", any case).
bool hub_offline_from_env();

struct DownloadedFile {
  std::string path;          // inside the repository ("model-00001-of-00002.safetensors")
  std::string etag;          // the blob's name
  std::uint64_t size = 0;    // bytes
  bool downloaded = false;   // false: the blob was already in the cache
};

struct DownloadResult {
  std::filesystem::path snapshot;  // cache/models--ORG--NAME/snapshots/<commit>
  std::string commit;
  std::vector<DownloadedFile> files;
};

// Downloads `id` (at id.rev()) and returns its snapshot folder; refs/<rev> is written last,
// once every file is in place. Throws IoError for offline mode, HTTP errors (401/403 with a
// hint about HF_TOKEN and licences, 404 for an unknown repository, revision or file) and
// network failures; FormatError for a hostile or inconsistent server answer (bad paths,
// sha256 or size mismatch).
DownloadResult download_model(const HubId& id, const HubOptions& options);

// Validates a file name from the server: relative, '/'-separated, no "", "." or ".."
// component, no backslash or control character. Throws FormatError naming it.
void check_repo_path(const std::string& path);

}  // namespace bentov::io
