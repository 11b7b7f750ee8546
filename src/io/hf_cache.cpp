#include "bentov/io/hf_cache.h"

#include <cstdlib>
#include <fstream>

#include "bentov/error.h"

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

namespace {

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char ch : s) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
  }
  return true;
}

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

}  // namespace

ResolvedModel resolve_model(const std::string& spec) {
  std::error_code ec;
  if (fs::is_directory(spec, ec)) {
    const fs::path abs = fs::absolute(spec, ec).lexically_normal();
    return {spec, last_component(abs), abs.string()};
  }
  std::string id = spec, revision;
  if (auto at = spec.rfind('@'); at != std::string::npos) {
    id = spec.substr(0, at);
    revision = spec.substr(at + 1);
  }
  const auto slash = id.find('/');
  const std::string org = slash == std::string::npos ? "" : id.substr(0, slash);
  const std::string name = slash == std::string::npos ? id : id.substr(slash + 1);
  const bool looks_like_id = (slash == std::string::npos || safe_part(org)) && safe_part(name) &&
                             (revision.empty() || safe_part(revision)) &&
                             spec.find("//") == std::string::npos;
  if (!looks_like_id || (slash == std::string::npos && spec.find('.') == 0)) {
    throw IoError("model '" + spec + "' is neither a folder nor a Hugging Face id",
                  "pass a checkpoint folder or an id like EleutherAI/pythia-160m[@revision]");
  }
  const fs::path cache = hf_hub_cache_dir();
  const fs::path repo = cache / ("models--" + (org.empty() ? name : org + "--" + name));
  const std::string rev = revision.empty() ? "main" : revision;
  std::string commit = rev;
  if (!is_commit_hash(rev)) {
    std::ifstream ref(repo / "refs" / rev);
    if (!ref || !(ref >> commit) || !is_commit_hash(commit)) {
      throw IoError("model '" + spec + "' is not a folder and not in the Hugging Face cache (" +
                        (repo / "refs" / rev).string() + " not found)",
                    "download it first (huggingface-cli download " + id +
                        (revision.empty() ? "" : " --revision " + revision) +
                        "), set HF_HUB_CACHE, or pass a checkpoint folder");
    }
  }
  const fs::path folder = repo / "snapshots" / commit;
  if (!fs::is_directory(folder, ec)) {
    throw IoError("the Hugging Face cache names commit " + commit + " for '" + spec +
                      "' but " + folder.string() + " is missing",
                  "re-download the model with huggingface-cli download " + id);
  }
  return {folder, name + (revision.empty() ? "" : "@" + revision), spec};
}

}  // namespace bentov::io
