#include "bentov/io/hf_hub.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "bentov/error.h"
#include "bentov/io/json_file.h"
#include "io/hf_hub_errors.h"
#include "io/hf_hub_files.h"
#include "io/hf_hub_http.h"
#include "io/hf_hub_layout.h"
#include "io/hf_hub_progress.h"
#include "io/hf_hub_sha256.h"

namespace bentov::io {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultEndpoint = "https://huggingface.co";
constexpr std::size_t kMaxApiBytes = 64u << 20;
constexpr int kMaxTotalAttempts = 100;  // resumptions that each made progress, per file

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// What the Hub says about one file before its bytes are fetched.
struct FileMeta {
  std::string commit;        // X-Repo-Commit
  std::string etag;          // blob name; "" until known
  std::optional<std::uint64_t> size;
  std::string download_url;  // the resolve URL, or where it redirects (the CDN)
};

std::optional<std::uint64_t> parse_u64(const std::string& s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// Reads commit, blob name and size off a response chain as huggingface_hub does: X-Linked-*
// (set by the Hub on an LFS file's redirect) win over the plain headers of whatever
// answered last.
void read_meta(const hub::Response& r, FileMeta& m) {
  if (m.commit.empty()) m.commit = r.first_header("x-repo-commit");
  if (m.etag.empty()) {
    std::string raw = r.first_header("x-linked-etag");
    if (raw.empty()) {
      for (const auto& h : r.hops) {
        if (h.has("x-repo-commit") && h.has("etag")) {
          raw = h.header("etag");
          break;
        }
      }
    }
    if (raw.empty()) raw = r.final().header("etag");
    if (!raw.empty()) m.etag = hub::blob_name_from_etag(raw);
  }
  if (!m.size) {
    m.size = parse_u64(r.first_header("x-linked-size"));
    const auto& f = r.final();
    if (!m.size && f.status == 200) m.size = parse_u64(f.header("content-length"));
  }
}

// "bytes 100-199/200" -> 100.
std::optional<std::uint64_t> content_range_start(const std::string& v) {
  const auto sp = v.find(' ');
  const auto dash = v.find('-');
  if (sp == std::string::npos || dash == std::string::npos || dash < sp) return std::nullopt;
  return parse_u64(v.substr(sp + 1, dash - sp - 1));
}

std::uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::uint64_t>(n);
}

// An exclusive flock(2) on .locks/models--ORG--NAME/<etag>.lock, the lock huggingface_hub
// takes (filelock), so that two downloaders never append to one .incomplete file.
class BlobLock {
 public:
  explicit BlobLock(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0) {
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~BlobLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  BlobLock(const BlobLock&) = delete;
  BlobLock& operator=(const BlobLock&) = delete;

 private:
  int fd_ = -1;
};

class Downloader {
 public:
  Downloader(const HubId& id, const HubOptions& o)
      : id_(id),
        o_(o),
        client_(o.endpoint, o.token),
        repo_dir_(o.cache_dir / id.cache_folder_name()),
        locks_dir_(o.cache_dir / ".locks" / id.cache_folder_name()) {}

  DownloadResult run();

 private:
  hub::RequestContext ctx(const std::string& file) const {
    return {o_.endpoint, id_.repo_id(), id_.rev(), file, !o_.token.empty()};
  }
  std::string resolve_url(const std::string& file) const {
    return o_.endpoint + "/" + hub::url_quote(id_.repo_id(), true) + "/resolve/" +
           hub::url_quote(id_.rev(), false) + "/" + hub::url_quote(file, true);
  }
  void sleep_before_retry(int attempt) const {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(200 << std::min(attempt, 5), 5000)));
  }

  std::vector<std::string> list_files();
  FileMeta head_file(const std::string& file);
  DownloadedFile fetch(const std::string& file);
  // Fills blobs/<etag> from meta.download_url; meta.etag may be learnt from the GET itself.
  void download_blob(const std::string& file, FileMeta& meta);
  void note_commit(const std::string& file, const std::string& commit);

  const HubId& id_;
  const HubOptions& o_;
  hub::HttpClient client_;
  fs::path repo_dir_, locks_dir_;
  std::string commit_;  // the api's sha, else the first X-Repo-Commit
};

std::vector<std::string> Downloader::list_files() {
  const std::string url = o_.endpoint + "/api/models/" + hub::url_quote(id_.repo_id(), true) +
                          "/revision/" + hub::url_quote(id_.rev(), false);
  hub::Response r;
  for (int attempt = 0;; ++attempt) {
    r = client_.get_text(url, kMaxApiBytes);
    if (r.ok_transport() && r.final().status < 500) break;
    if (attempt + 1 >= o_.max_attempts) {
      if (!r.ok_transport()) throw hub::network_error(r.transport_error, ctx(""));
      break;
    }
    sleep_before_retry(attempt);
  }
  if (r.final().status >= 400) throw hub::http_error(r, ctx(""));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(r.body);
  } catch (const nlohmann::json::exception&) {
    throw FormatError("the Hub's answer for '" + id_.repo_id() + "' (" + url + ") is not JSON",
                      "check HF_ENDPOINT (" + o_.endpoint + ")");
  }
  if (!j.is_object() || !j.contains("siblings") || !j["siblings"].is_array()) {
    throw FormatError("the Hub's answer for '" + id_.repo_id() + "' has no \"siblings\" file list",
                      "check HF_ENDPOINT (" + o_.endpoint + ")");
  }
  if (j.contains("sha") && j["sha"].is_string()) {
    const auto sha = j["sha"].get<std::string>();
    if (!is_commit_hash(sha)) {
      throw FormatError("the Hub's answer for '" + id_.repo_id() + "' has an invalid \"sha\" '" + sha + "'");
    }
    commit_ = sha;
  }
  std::vector<std::string> files;
  for (const auto& s : j["siblings"]) {
    if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) {
      throw FormatError("the Hub's file list for '" + id_.repo_id() + "' has an entry without \"rfilename\"");
    }
    files.push_back(s["rfilename"].get<std::string>());
    check_repo_path(files.back());
  }
  return files;
}

void Downloader::note_commit(const std::string& file, const std::string& commit) {
  if (commit.empty()) return;
  if (!is_commit_hash(commit)) {
    throw FormatError("the Hub sent an invalid X-Repo-Commit '" + commit + "' for '" + file + "'",
                      "check HF_ENDPOINT (" + o_.endpoint + ")");
  }
  if (commit_.empty()) {
    commit_ = commit;
  } else if (commit != commit_) {
    throw IoError("'" + id_.repo_id() + "@" + id_.rev() + "' moved during the download (commit " +
                      commit_ + ", then " + commit + " for '" + file + "')",
                  "run the command again, or pin a commit with @<sha>");
  }
}

FileMeta Downloader::head_file(const std::string& file) {
  const std::string url = resolve_url(file);
  hub::Response r;
  for (int attempt = 0;; ++attempt) {
    r = client_.head(url);
    if (r.ok_transport() && r.final().status < 500) break;
    if (attempt + 1 >= o_.max_attempts) {
      if (!r.ok_transport()) throw hub::network_error(r.transport_error, ctx(file));
      break;
    }
    sleep_before_retry(attempt);
  }
  FileMeta m;
  const auto& f = r.final();
  if (f.status == 405 || f.status == 501 || (f.status >= 400 && r.hops.size() > 1)) {
    // A server without HEAD (or a redirect target that refuses it): the GET's headers will
    // say what HEAD would have, and the GET reports a real error itself.
    m.download_url = f.url.empty() ? url : f.url;
  } else if (f.status >= 400) {
    throw hub::http_error(r, ctx(file));
  } else if (f.is_redirect()) {
    m.download_url = f.location();  // an absolute redirect (the CDN), fetched by GET
  } else if (f.status >= 300) {
    throw FormatError("the Hub answered HTTP " + std::to_string(f.status) + " without a Location for '" +
                          file + "'",
                      "check HF_ENDPOINT (" + o_.endpoint + ")");
  } else {
    m.download_url = f.url.empty() ? url : f.url;
  }
  read_meta(r, m);
  return m;
}

void Downloader::download_blob(const std::string& file, FileMeta& meta) {
  hub::Progress progress(o_.progress, file, meta.size.value_or(0));
  std::unique_ptr<BlobLock> lock;
  fs::path incomplete;
  auto take_blob = [&](const std::string& etag) {
    lock = std::make_unique<BlobLock>(locks_dir_ / (etag + ".lock"));
    incomplete = repo_dir_ / "blobs" / (etag + ".incomplete");
  };
  if (!meta.etag.empty()) {
    take_blob(meta.etag);
    if (fs::exists(repo_dir_ / "blobs" / meta.etag)) return;  // another process finished it
  }
  std::error_code ec;
  fs::create_directories(repo_dir_ / "blobs", ec);
  if (ec) throw IoError("cannot create '" + (repo_dir_ / "blobs").string() + "': " + ec.message());

  std::uint64_t have = 0;
  int stalled = 0;  // consecutive attempts that added no byte
  for (int attempt = 0;; ++attempt) {
    const std::uint64_t offset = incomplete.empty() ? 0 : file_size_or_zero(incomplete);
    if (meta.size && offset == *meta.size && offset > 0) {
      have = offset;
      break;  // a previous run got every byte but stopped before the rename
    }
    if (meta.size && offset > *meta.size) fs::remove(incomplete, ec);
    const std::uint64_t from = meta.size && offset > *meta.size ? 0 : offset;
    have = from;
    std::FILE* out = nullptr;
    bool started = false;
    std::exception_ptr failure;
    auto sink = [&](const hub::Response& r, const char* data, std::size_t n) -> bool {
      try {
        if (!started) {
          started = true;
          const auto& f = r.final();
          if (f.status < 200 || f.status >= 300) return false;
          if (meta.etag.empty()) {
            read_meta(r, meta);
            note_commit(file, meta.commit);
            if (meta.etag.empty()) {
              throw FormatError("the Hub sent no ETag for '" + file + "'",
                                "check HF_ENDPOINT (" + o_.endpoint + ")");
            }
            take_blob(meta.etag);
          }
          bool append = false;
          if (f.status == 206) {
            // Without Content-Range the server is taken to have started where asked.
            const std::string range = f.header("content-range");
            const auto start = range.empty() ? std::optional<std::uint64_t>(from) : content_range_start(range);
            if (!start || *start != from) {
              throw FormatError("the server resumed '" + file + "' at the wrong byte (" +
                                    f.header("content-range") + ", asked for " + std::to_string(from) + ")",
                                "delete " + incomplete.string() + " and run the command again");
            }
            append = true;
          } else if (from > 0) {
            progress.note("the server ignored the Range request; starting over");
          }
          out = std::fopen(incomplete.c_str(), append ? "ab" : "wb");
          if (!out) throw IoError("cannot write '" + incomplete.string() + "'");
          have = append ? from : 0;
          progress.update(have);
        }
        if (std::fwrite(data, 1, n, out) != n) {
          throw IoError("cannot write '" + incomplete.string() + "' (disk full?)");
        }
        have += n;
        progress.update(have);
        return true;
      } catch (...) {
        failure = std::current_exception();
        return false;
      }
    };
    hub::Response r = client_.get_stream(meta.download_url, from, sink);
    const bool closed_ok = !out || std::fclose(out) == 0;
    if (failure) std::rethrow_exception(failure);
    if (!closed_ok) throw IoError("cannot write '" + incomplete.string() + "' (disk full?)");
    const bool progressed = have > from;
    stalled = progressed ? 0 : stalled + 1;
    if (r.has_response() && r.ok_transport()) {
      const auto& f = r.final();
      const bool success = f.status >= 200 && f.status < 300;
      if (success && !started) {  // an empty file: no body callback ran
        read_meta(r, meta);
        note_commit(file, meta.commit);
        if (meta.etag.empty()) {
          throw FormatError("the Hub sent no ETag for '" + file + "'", "check HF_ENDPOINT");
        }
        take_blob(meta.etag);
        if (std::FILE* e = std::fopen(incomplete.c_str(), "wb")) std::fclose(e);
        have = 0;
      }
      if (success && !(meta.size && have < *meta.size && progressed)) break;
      if (success) {
        // A body that ended early without a transport error (a close-delimited response cut
        // off): resumed like a dropped connection below.
        r.transport_error = "the response ended after " + std::to_string(have) + " of " +
                            std::to_string(*meta.size) + " bytes";
      } else if (f.status == 416 && from > 0 && stalled < o_.max_attempts) {
        fs::remove(incomplete, ec);  // our partial file does not fit the server's: start over
        continue;
      } else if ((f.status >= 500 || f.status == 429) && stalled < o_.max_attempts) {
        sleep_before_retry(attempt);
        continue;
      } else {
        throw hub::http_error(r, ctx(file));
      }
    }
    // A dropped or failed connection: resume from what is on disk.
    if (stalled >= o_.max_attempts || attempt + 1 >= kMaxTotalAttempts) {
      throw hub::network_error(r.transport_error, ctx(file));
    }
    progress.note("connection lost after " + hub::human_bytes(have) + " (" + r.transport_error +
                  "); resuming");
    if (!progressed) sleep_before_retry(stalled);
  }

  // Checks before the blob takes its final name.
  if (meta.size && have != *meta.size) {
    fs::remove(incomplete, ec);
    throw FormatError("'" + file + "' of '" + id_.repo_id() + "' has " + std::to_string(have) +
                          " bytes, the Hub announced " + std::to_string(*meta.size),
                      "run the command again; if it persists, a proxy alters the file");
  }
  if (hub::is_sha256_hex(meta.etag)) {
    std::string want = meta.etag;
    std::transform(want.begin(), want.end(), want.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string got = hub::sha256_file(incomplete);
    if (got != want) {
      fs::remove(incomplete, ec);
      throw FormatError("'" + file + "' of '" + id_.repo_id() + "' does not match its sha256 (got " +
                            got + ", expected " + want + ")",
                        "run the command again; if it persists, the server or a proxy corrupts files");
    }
  }
  fs::rename(incomplete, repo_dir_ / "blobs" / meta.etag, ec);
  if (ec) throw IoError("cannot rename '" + incomplete.string() + "': " + ec.message());
  progress.finish(have);
}

DownloadedFile Downloader::fetch(const std::string& file) {
  check_repo_path(file);
  FileMeta meta = head_file(file);
  note_commit(file, meta.commit);
  DownloadedFile d{file, meta.etag, meta.size.value_or(0), false};
  if (!meta.etag.empty() && fs::exists(repo_dir_ / "blobs" / meta.etag)) {
    d.size = file_size_or_zero(repo_dir_ / "blobs" / meta.etag);
    return d;
  }
  download_blob(file, meta);
  d.etag = meta.etag;
  d.size = file_size_or_zero(repo_dir_ / "blobs" / meta.etag);
  d.downloaded = true;
  return d;
}

DownloadResult Downloader::run() {
  if (o_.progress) {
    std::fprintf(stderr, "%s: downloading from %s into %s\n",
                 (id_.repo_id() + "@" + id_.rev()).c_str(), o_.endpoint.c_str(), repo_dir_.string().c_str());
  }
  const auto siblings = list_files();
  const auto plan = hub::plan_files(siblings, id_.repo_id());
  DownloadResult result;
  for (const auto& f : plan.files) result.files.push_back(fetch(f));
  std::vector<std::string> weights = plan.weights;
  if (!plan.weights_index.empty()) {
    result.files.push_back(fetch(plan.weights_index));
    const auto index = read_json_file(repo_dir_ / "blobs" / result.files.back().etag);
    weights = hub::index_shards(index, plan.weights_index);
  }
  for (const auto& w : weights) result.files.push_back(fetch(w));
  if (commit_.empty()) {
    throw FormatError("the Hub named no commit for '" + id_.repo_id() + "@" + id_.rev() +
                          "' (no \"sha\", no X-Repo-Commit)",
                      "check HF_ENDPOINT (" + o_.endpoint + ")");
  }
  // Links only once every blob is in place, and the ref last: a snapshot that resolve_model
  // finds through refs/<rev> is complete.
  for (const auto& f : result.files) hub::link_snapshot_file(repo_dir_, commit_, f.path, f.etag);
  if (id_.rev() != commit_) hub::write_ref(repo_dir_, id_.rev(), commit_);
  result.commit = commit_;
  result.snapshot = repo_dir_ / "snapshots" / commit_;
  return result;
}

}  // namespace

bool hub_offline_from_env() {
  std::string v = env("HF_HUB_OFFLINE");
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

HubOptions hub_options_from_env() {
  HubOptions o;
  o.endpoint = env("HF_ENDPOINT");
  if (o.endpoint.empty()) o.endpoint = kDefaultEndpoint;
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  o.token = env("HF_TOKEN");
  if (o.token.empty()) o.token = env("HUGGING_FACE_HUB_TOKEN");
  o.cache_dir = hf_hub_cache_dir();
  o.offline = hub_offline_from_env();
  return o;
}

DownloadResult download_model(const HubId& id, const HubOptions& options) {
  if (options.offline) {
    throw IoError("cannot download '" + id.repo_id() + "@" + id.rev() +
                      "': offline mode (--offline or HF_HUB_OFFLINE=1)",
                  "download it while online (bentov download " + id.repo_id() +
                      (id.revision.empty() ? "" : "@" + id.revision) + "), or pass a checkpoint folder");
  }
  if (hub::url_origin(options.endpoint).empty()) {
    throw UsageError("HF_ENDPOINT '" + options.endpoint + "' is not a URL",
                     "set it like https://huggingface.co, or unset it");
  }
  return Downloader(id, options).run();
}

}  // namespace bentov::io
