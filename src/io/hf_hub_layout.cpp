#include "io/hf_hub_layout.h"

#include <unistd.h>

#include <cctype>
#include <system_error>

#include "bentov/error.h"
#include "bentov/io/atomic_file.h"
#include "bentov/io/hf_hub.h"

namespace bentov::io {
namespace fs = std::filesystem;

void check_repo_path(const std::string& path) {
  auto bad = [&](const std::string& why) {
    return FormatError("the Hub sent an unsafe file name '" + path + "' (" + why + ")",
                       "the server is not a Hugging Face Hub or is compromised; check HF_ENDPOINT");
  };
  if (path.empty()) throw bad("empty");
  if (path.size() > 1024) throw bad("too long");
  if (path.front() == '/') throw bad("absolute");
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) throw bad("control character");
    if (c == '\\') throw bad("backslash");
  }
  std::size_t start = 0;
  while (true) {
    const auto slash = path.find('/', start);
    const std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty()) throw bad("empty path component");
    if (part == "." || part == "..") throw bad("'" + part + "' component");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

namespace hub {

std::string blob_name_from_etag(const std::string& header_value) {
  std::string e = header_value;
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  bool ok = !e.empty() && e.size() <= 128;
  for (unsigned char c : e) ok = ok && (std::isalnum(c) || c == '-' || c == '_');
  if (!ok) {
    throw FormatError("the Hub sent an unusable ETag '" + header_value + "'",
                      "the server is not a Hugging Face Hub; check HF_ENDPOINT");
  }
  return e;
}

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (unsigned char c : s) {
    if (!std::isxdigit(c)) return false;
  }
  return true;
}

std::string snapshot_link_target(const std::string& repo_path, const std::string& etag) {
  std::string up = "../../";  // out of snapshots/<commit>/
  for (char c : repo_path) {
    if (c == '/') up += "../";
  }
  return up + "blobs/" + etag;
}

void link_snapshot_file(const fs::path& repo_dir, const std::string& commit,
                        const std::string& repo_path, const std::string& etag) {
  check_repo_path(repo_path);
  const fs::path link = repo_dir / "snapshots" / commit / repo_path;
  const std::string target = snapshot_link_target(repo_path, etag);
  std::error_code ec;
  fs::create_directories(link.parent_path(), ec);
  if (ec) throw IoError("cannot create '" + link.parent_path().string() + "': " + ec.message());
  if (fs::is_symlink(link, ec) && fs::read_symlink(link, ec).string() == target) return;
  // A new link beside the old one, renamed over it: readers never see a missing file.
  const fs::path tmp = link.parent_path() / (link.filename().string() + ".tmp-link-" + std::to_string(::getpid()));
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (ec) throw IoError("cannot create the symlink '" + link.string() + "': " + ec.message());
  fs::rename(tmp, link, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw IoError("cannot place the symlink '" + link.string() + "'");
  }
}

void write_ref(const fs::path& repo_dir, const std::string& rev, const std::string& commit) {
  check_repo_path(rev);
  const fs::path ref = repo_dir / "refs" / rev;
  std::error_code ec;
  fs::create_directories(ref.parent_path(), ec);
  if (ec) throw IoError("cannot create '" + ref.parent_path().string() + "': " + ec.message());
  write_file_atomic(ref, commit);
}

}  // namespace hub
}  // namespace bentov::io
