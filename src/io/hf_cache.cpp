#include "bentov/io/hf_cache.h"

#include <cstdlib>
#include <fstream>

#include "bentov/error.h"
#include "bentov/io/hf_hub.h"
#include "bentov/io/json_file.h"

namespace bentov::io {
namespace fs = std::filesystem;

fs::path hf_hub_cache_dir() {
  if (const char* c = std::getenv("HF_HUB_CACHE"); c && *c) return c;
  if (const char* h = std::getenv("HF_HOME"); h && *h) return fs::path(h) / "hub";
  if (const char* home = std::getenv("HOME"); home && *home) {
    return fs::path(home) / ".cache" / "huggingface" / "hub";
  }
  return fs::path(".cache") / "huggingface" / "hub";
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char ch : s) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
  }
  return true;
}

namespace {

// An id part (org, name, revision) must not escape the cache folder.
bool safe_part(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\\') == std::string::npos && s.find('\0') == std::string::npos;
}

std::string last_component(const fs::path& p) {
  auto clean = p.lexically_normal();
  auto name = clean.filename().string();
  if (name.empty()) name = clean.parent_path().filename().string();
  return name;
}

bool has_weights(const fs::path& folder) {
  std::error_code ec;
  const fs::path index = folder / "model.safetensors.index.json";
  if (fs::exists(index, ec)) {
    try {
      const auto j = read_json_file(index);
      for (const auto& [tensor, file] : j.at("weight_map").items()) {
        if (!file.is_string() || !fs::exists(folder / file.get<std::string>(), ec)) return false;
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string n = e.path().filename().string();
    const bool weights = e.path().extension() == ".safetensors" ||
                         (n.rfind("pytorch_model", 0) == 0 && e.path().extension() == ".bin");
    if (weights && fs::exists(e.path(), ec)) return true;  // exists: a symlink's blob is there
  }
  return false;
}

}  // namespace

std::optional<HubId> parse_hub_id(const std::string& spec) {
  HubId id;
  std::string repo = spec;
  if (auto at = spec.rfind('@'); at != std::string::npos) {
    repo = spec.substr(0, at);
    id.revision = spec.substr(at + 1);
    if (!safe_part(id.revision)) return std::nullopt;
  }
  const auto slash = repo.find('/');
  if (slash != std::string::npos) {
    id.org = repo.substr(0, slash);
    if (!safe_part(id.org)) return std::nullopt;
  }
  id.name = slash == std::string::npos ? repo : repo.substr(slash + 1);
  if (!safe_part(id.name) || spec.find("//") != std::string::npos) return std::nullopt;
  if (slash == std::string::npos && id.name.front() == '.') return std::nullopt;
  return id;
}

std::optional<CachedSnapshot> find_cached_snapshot(const HubId& id) {
  const fs::path repo = hf_hub_cache_dir() / id.cache_folder_name();
  const std::string rev = id.rev();
  std::string commit = rev;
  if (!is_commit_hash(rev)) {
    std::ifstream ref(repo / "refs" / rev);
    if (!ref || !(ref >> commit) || !is_commit_hash(commit)) return std::nullopt;
  }
  const fs::path folder = repo / "snapshots" / commit;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return std::nullopt;
  const bool complete = fs::exists(folder / "config.json", ec) && has_weights(folder);
  return CachedSnapshot{folder, commit, complete};
}

ResolvedModel resolve_model(const std::string& spec, const ResolveOptions& options) {
  std::error_code ec;
  if (fs::is_directory(spec, ec)) {
    const fs::path abs = fs::absolute(spec, ec).lexically_normal();
    return {spec, last_component(abs), abs.string()};
  }
  const auto id = parse_hub_id(spec);
  if (!id) {
    throw IoError("model '" + spec + "' is neither a folder nor a Hugging Face id",
                  "pass a checkpoint folder or an id like EleutherAI/pythia-160m[@revision]");
  }
  const std::string name = id->name + (id->revision.empty() ? "" : "@" + id->revision);
  // The cache first: a model already there is used without the network.
  const auto cached = find_cached_snapshot(*id);
  if (cached && cached->complete) return {cached->folder, name, spec};

  HubOptions hub = hub_options_from_env();
  hub.progress = options.progress;
  const bool offline = !options.allow_download || hub.offline;
  if (offline) {
    // An incomplete snapshot is still handed over: the loader names what is missing.
    if (cached) return {cached->folder, name, spec};
    const fs::path repo = hub.cache_dir / id->cache_folder_name();
    const std::string download =
        "bentov download " + id->repo_id() + (id->revision.empty() ? "" : "@" + id->revision);
    throw IoError("model '" + spec + "' is not a folder and not in the Hugging Face cache (" +
                      (repo / "refs" / id->rev()).string() + " not found) and downloads are off (" +
                      (options.allow_download ? "HF_HUB_OFFLINE is set" : "--offline") + ")",
                  "download it first (" + download + ", or huggingface-cli download " + id->repo_id() +
                      "), set HF_HUB_CACHE, or pass a checkpoint folder");
  }
  const auto result = download_model(*id, hub);
  return {result.snapshot, name, spec};
}

}  // namespace bentov::io
