// Hugging Face Hub downloads against a local imitation of the Hub
// (tests/support/hf_hub_server.py): the api file list, HEAD metadata, the 302 of LFS files to
// a CDN path with X-Linked-Etag / X-Linked-Size / X-Repo-Commit on the 302, one dropped
// connection per weight file (resumed with a Range request), 401/403 for a gated repository,
// 404 for unknown repositories and revisions, a server without HEAD, a corrupted blob and
// hostile file names. Then the cache is read offline, by the library and by `bentov info`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bentov/error.h"
#include "bentov/io/hf_cache.h"
#include "bentov/io/hf_hub.h"
#include "bentov/model/model.h"
#include "io/hf_hub_http.h"
#include "io/hf_hub_layout.h"
#include "io/hf_hub_sha256.h"
#include "support/cli.h"
#include "support/hub_server.h"

namespace fs = std::filesystem;
using bentov::testing::fixture;
using bentov::testing::HubEnv;
using bentov::testing::HubServer;
using bentov::testing::run_cli;
using bentov::testing::slurp_file;

namespace {

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "python3 is needed for the local Hub server";
    }
    server_ = std::make_unique<HubServer>();
    ASSERT_TRUE(server_->ok()) << "tests/support/hf_hub_server.py did not start";
    cache_ = fs::temp_directory_path() /
             ("bentov_hub_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(cache_);
    fs::create_directories(cache_ / "hub");
    env_.set("HF_ENDPOINT", server_->url());
    env_.set("HF_HUB_CACHE", (cache_ / "hub").string());
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(cache_, ec);
  }

  bentov::io::HubOptions options() const {
    auto o = bentov::io::hub_options_from_env();
    o.progress = false;
    return o;
  }
  static bentov::io::HubId id(const std::string& spec) { return *bentov::io::parse_hub_id(spec); }
  fs::path repo(const std::string& folder) const { return cache_ / "hub" / folder; }

  // Every request the server saw.
  nlohmann::json requests() const {
    bentov::io::hub::HttpClient client(server_->url(), "");
    const auto r = client.get_text(server_->url() + "/_stats", 1 << 24);
    return nlohmann::json::parse(r.body)["requests"];
  }

  // The error download_model throws for `spec` (fails the test when it succeeds).
  std::optional<bentov::Error> download_error(const std::string& spec) {
    try {
      bentov::io::download_model(id(spec), options());
    } catch (const bentov::Error& e) {
      return e;
    }
    ADD_FAILURE() << spec << " downloaded, an error was expected";
    return std::nullopt;
  }

  HubEnv env_;
  std::unique_ptr<HubServer> server_;
  fs::path cache_;
};

}  // namespace

// --- Pieces that need no server ------------------------------------------------------------

TEST(HubLayout, RepoPathsFromTheServerAreValidated) {
  using bentov::io::check_repo_path;
  for (const char* ok : {"config.json", "sub/dir/model.safetensors", "a..b", ".gitattributes"}) {
    EXPECT_NO_THROW(check_repo_path(ok)) << ok;
  }
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", "..",
                          "a\\b", "x\ny"}) {
    EXPECT_THROW(check_repo_path(bad), bentov::Error) << bad;
  }
}

TEST(HubLayout, EtagsBecomeBlobNames) {
  using bentov::io::hub::blob_name_from_etag;
  EXPECT_EQ(blob_name_from_etag("\"abc123\""), "abc123");
  EXPECT_EQ(blob_name_from_etag("W/\"abc123\""), "abc123");
  EXPECT_EQ(blob_name_from_etag("abc-12_3"), "abc-12_3");
  for (const char* bad : {"\"../../x\"", "\"\"", "W/", "\"a/b\"", "\"a b\""}) {
    EXPECT_THROW(blob_name_from_etag(bad), bentov::Error) << bad;
  }
  EXPECT_TRUE(bentov::io::hub::is_sha256_hex(std::string(64, 'a')));
  EXPECT_FALSE(bentov::io::hub::is_sha256_hex(std::string(40, 'a')));
}

TEST(HubLayout, SnapshotLinksAreRelativeWithOneDotDotPerLevel) {
  using bentov::io::hub::snapshot_link_target;
  EXPECT_EQ(snapshot_link_target("config.json", "e1"), "../../blobs/e1");
  EXPECT_EQ(snapshot_link_target("onnx/model.onnx", "e2"), "../../../blobs/e2");
  EXPECT_EQ(snapshot_link_target("a/b/c.txt", "e3"), "../../../../blobs/e3");

  const fs::path repo = fs::temp_directory_path() / ("bentov_layout_" + std::to_string(::getpid()));
  fs::remove_all(repo);
  fs::create_directories(repo / "blobs");
  std::ofstream(repo / "blobs" / "e3") << "nested";
  const std::string commit(40, 'c');
  bentov::io::hub::link_snapshot_file(repo, commit, "a/b/c.txt", "e3");
  const fs::path link = repo / "snapshots" / commit / "a" / "b" / "c.txt";
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link).string(), "../../../../blobs/e3");
  EXPECT_EQ(slurp_file(link), "nested");
  // Linking again (same or new blob) replaces the link in place.
  std::ofstream(repo / "blobs" / "e4") << "newer";
  bentov::io::hub::link_snapshot_file(repo, commit, "a/b/c.txt", "e4");
  EXPECT_EQ(slurp_file(link), "newer");
  bentov::io::hub::write_ref(repo, "main", commit);
  EXPECT_EQ(slurp_file(repo / "refs" / "main"), commit);
  fs::remove_all(repo);
}

TEST(HubLayout, ModelIdsParse) {
  using bentov::io::parse_hub_id;
  auto a = parse_hub_id("EleutherAI/pythia-160m@step1000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->repo_id(), "EleutherAI/pythia-160m");
  EXPECT_EQ(a->rev(), "step1000");
  EXPECT_EQ(a->cache_folder_name(), "models--EleutherAI--pythia-160m");
  auto b = parse_hub_id("gpt2");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->cache_folder_name(), "models--gpt2");
  EXPECT_EQ(b->rev(), "main");
  for (const char* bad : {"a/b/c", "../x", "a/..", "a/b@", "a/b@..", "a//b", ".hidden", "a\\b/c"}) {
    EXPECT_FALSE(parse_hub_id(bad)) << bad;
  }
}

TEST(HubLayout, Sha256OfAFile) {
  const fs::path p = fs::temp_directory_path() / ("bentov_sha_" + std::to_string(::getpid()));
  std::ofstream(p, std::ios::binary) << "abc";
  EXPECT_EQ(bentov::io::hub::sha256_file(p),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
  fs::remove(p);
}

// --- Against the local Hub -----------------------------------------------------------------

// The whole path of one model: api list, HEAD, 302 to the CDN, a dropped transfer resumed with
// Range, the blobs/snapshots/refs layout, and only the files bentov needs.
TEST_F(HubTest, DownloadsIntoTheHuggingFaceLayoutAndResumesADroppedTransfer) {
  const auto result = bentov::io::download_model(id("test-org/tiny-gpt2"), options());
  const fs::path r = repo("models--test-org--tiny-gpt2");
  ASSERT_EQ(result.commit.size(), 40u);
  EXPECT_EQ(result.snapshot, r / "snapshots" / result.commit);
  EXPECT_EQ(slurp_file(r / "refs" / "main"), result.commit);

  // Each file a relative symlink into blobs/, named by its ETag; weights by their sha256.
  const std::string weights = slurp_file(fixture("gpt2-lmhead") + "/model.safetensors");
  const fs::path link = result.snapshot / "model.safetensors";
  ASSERT_TRUE(fs::is_symlink(link));
  const std::string target = fs::read_symlink(link).string();
  EXPECT_EQ(target.rfind("../../blobs/", 0), 0u) << target;
  const std::string sha = target.substr(std::string("../../blobs/").size());
  EXPECT_EQ(sha.size(), 64u);
  EXPECT_EQ(sha, bentov::io::hub::sha256_file(fixture("gpt2-lmhead") + "/model.safetensors"));
  EXPECT_TRUE(slurp_file(link) == weights) << "the resumed file is not byte-identical";
  for (const char* f : {"config.json", "generation_config.json"}) {
    ASSERT_TRUE(fs::is_symlink(result.snapshot / f)) << f;
    const std::string t = fs::read_symlink(result.snapshot / f).string();
    EXPECT_EQ(t.size(), std::string("../../blobs/").size() + 40) << f << " -> " << t;  // git sha1
    EXPECT_EQ(slurp_file(result.snapshot / f), slurp_file(fixture("gpt2-lmhead") + "/" + f)) << f;
  }
  // Listed by the api but not part of a checkpoint.
  for (const char* f : {"README.md", ".gitattributes", "onnx"}) {
    EXPECT_FALSE(fs::exists(result.snapshot / f)) << f;
  }
  for (const auto& e : fs::directory_iterator(r / "blobs")) {
    EXPECT_EQ(e.path().extension(), "") << "left behind: " << e.path();
  }

  // The wire: HEAD on the resolve URL, a cut first GET on the CDN, then a Range request
  // starting exactly where the cut left the file.
  int cdn_gets = 0;
  bool resumed_at_half = false, head_seen = false;
  for (const auto& q : requests()) {
    const std::string path = q["path"];
    if (q["method"] == "HEAD" && path.find("/resolve/main/model.safetensors") != std::string::npos) {
      head_seen = true;
    }
    if (q["method"] == "GET" && path.rfind("/cdn/" + sha, 0) == 0) {
      ++cdn_gets;
      if (q["range"].is_string()) {
        resumed_at_half = q["range"] == "bytes=" + std::to_string(weights.size() / 2) + "-";
      }
    }
  }
  EXPECT_TRUE(head_seen);
  EXPECT_EQ(cdn_gets, 2);
  EXPECT_TRUE(resumed_at_half);

  // The model loads from the snapshot, and a second download transfers nothing.
  EXPECT_NO_THROW(bentov::Model::load(result.snapshot));
  const auto before = requests().size();
  const auto again = bentov::io::download_model(id("test-org/tiny-gpt2"), options());
  for (const auto& f : again.files) EXPECT_FALSE(f.downloaded) << f.path;
  const auto after = requests();
  for (std::size_t i = before; i < after.size(); ++i) {
    EXPECT_NE(after[i]["path"].get<std::string>().rfind("/cdn/", 0), 0u) << after[i].dump();
  }
}

// A transfer interrupted in an earlier run (blobs/<sha>.incomplete on disk) resumes from
// there: the first request already asks for the rest.
TEST_F(HubTest, ResumesAnIncompleteBlobLeftByAnEarlierRun) {
  const std::string weights = slurp_file(fixture("gpt2-lmhead") + "/model.safetensors");
  const std::string sha = bentov::io::hub::sha256_file(fixture("gpt2-lmhead") + "/model.safetensors");
  const fs::path blobs = repo("models--test-org--tiny-gpt2") / "blobs";
  fs::create_directories(blobs);
  const std::size_t kept = 100000;
  std::ofstream(blobs / (sha + ".incomplete"), std::ios::binary) << weights.substr(0, kept);

  const auto result = bentov::io::download_model(id("test-org/tiny-gpt2"), options());
  EXPECT_TRUE(slurp_file(result.snapshot / "model.safetensors") == weights);
  std::vector<std::string> ranges;
  for (const auto& q : requests()) {
    if (q["method"] == "GET" && q["path"].get<std::string>().rfind("/cdn/", 0) == 0) {
      ranges.push_back(q["range"].is_string() ? q["range"].get<std::string>() : "none");
    }
  }
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "bytes=" + std::to_string(kept) + "-");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(kept + (weights.size() - kept) / 2) + "-");
}

TEST_F(HubTest, ShardedCheckpointThroughItsIndexWithATagAndTokenizerFiles) {
  const auto sharded = bentov::io::download_model(id("test-org/opt-sharded"), options());
  for (int i = 1; i <= 5; ++i) {
    const std::string f = "model-0000" + std::to_string(i) + "-of-00005.safetensors";
    EXPECT_TRUE(slurp_file(sharded.snapshot / f) ==
                slurp_file(fixture("opt-postln-proj-sharded") + "/" + f))
        << f;
  }
  EXPECT_NO_THROW(bentov::Model::load(sharded.snapshot));

  const auto demo = bentov::io::download_model(id("test-org/gpt2-demo@v1.0"), options());
  const fs::path r = repo("models--test-org--gpt2-demo");
  EXPECT_EQ(slurp_file(r / "refs" / "v1.0"), demo.commit);
  EXPECT_FALSE(fs::exists(r / "refs" / "main"));
  for (const char* f : {"vocab.json", "merges.txt", "tokenizer_config.json", "config.json"}) {
    EXPECT_EQ(slurp_file(demo.snapshot / f),
              slurp_file(std::string(BENTOV_SOURCE_MODELS_DIR) + "/gpt2-demo/" + f))
        << f;
  }
}

TEST_F(HubTest, ServerWithoutHeadStillGivesCommitEtagAndResume) {
  const auto result = bentov::io::download_model(id("test-org/nohead"), options());
  EXPECT_TRUE(slurp_file(result.snapshot / "model.safetensors") ==
              slurp_file(fixture("gpt2-lmhead") + "/model.safetensors"));
  EXPECT_EQ(slurp_file(repo("models--test-org--nohead") / "refs" / "main"), result.commit);
}

TEST_F(HubTest, RelativeRedirectWhoseTargetRefusesHead) {
  const auto result = bentov::io::download_model(id("test-org/relative"), options());
  EXPECT_TRUE(slurp_file(result.snapshot / "model.safetensors") ==
              slurp_file(fixture("gpt2-lmhead") + "/model.safetensors"));
  const std::string sha = bentov::io::hub::sha256_file(fixture("gpt2-lmhead") + "/model.safetensors");
  EXPECT_EQ(fs::read_symlink(result.snapshot / "model.safetensors").string(), "../../blobs/" + sha);
}

TEST_F(HubTest, AShortBodyWithoutContentLengthIsResumedToo) {
  const auto result = bentov::io::download_model(id("test-org/no-length"), options());
  EXPECT_TRUE(slurp_file(result.snapshot / "model.safetensors") ==
              slurp_file(fixture("gpt2-lmhead") + "/model.safetensors"));
  int ranged = 0;
  for (const auto& q : requests()) ranged += q["range"].is_string() ? 1 : 0;
  EXPECT_EQ(ranged, 1);
}

TEST_F(HubTest, PytorchBinIsTheFallbackWhenThereIsNoSafetensors) {
  const auto result = bentov::io::download_model(id("test-org/bin-only"), options());
  EXPECT_TRUE(fs::exists(result.snapshot / "pytorch_model.bin"));
  EXPECT_EQ(fs::file_size(result.snapshot / "pytorch_model.bin"), 256u * 40u);
}

TEST_F(HubTest, ErrorsSayWhatHappenedAndWhatToDo) {
  auto e = download_error("test-org/no-such-model");
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("HTTP 404"), std::string::npos) << e->what();
  EXPECT_NE(std::string(e->what()).find("no such repository"), std::string::npos) << e->what();
  EXPECT_NE(e->hint().find("check the id"), std::string::npos) << e->hint();

  e = download_error("test-org/tiny-gpt2@no-such-branch");
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("no revision 'no-such-branch'"), std::string::npos) << e->what();

  e = download_error("test-org/gated");
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("HTTP 401"), std::string::npos) << e->what();
  EXPECT_NE(e->hint().find("set HF_TOKEN"), std::string::npos) << e->hint();
  EXPECT_NE(e->hint().find("licence"), std::string::npos) << e->hint();

  env_.set("HF_TOKEN", "hf_denied_token");
  e = download_error("test-org/gated");
  ASSERT_TRUE(e);
  EXPECT_NE(std::string(e->what()).find("HTTP 403"), std::string::npos) << e->what();
  EXPECT_NE(e->hint().find("accept the model's licence"), std::string::npos) << e->hint();

  // Nothing half-made is left for the cache lookup to find.
  EXPECT_FALSE(fs::exists(repo("models--test-org--gated") / "refs"));
  EXPECT_FALSE(fs::exists(repo("models--test-org--no-such-model") / "refs"));

  // The right token opens the gated repository, and is sent as a Bearer token.
  env_.set("HF_TOKEN", "hf_test_token");
  EXPECT_NO_THROW(bentov::io::download_model(id("test-org/gated"), options()));
  bool bearer = false;
  for (const auto& q : requests()) {
    if (q["authorization"] == "Bearer hf_test_token") bearer = true;
  }
  EXPECT_TRUE(bearer);
}

TEST_F(HubTest, ACorruptedBlobIsRejectedByItsSha256) {
  auto e = download_error("test-org/corrupt");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), bentov::ErrorKind::kFormat);
  EXPECT_NE(std::string(e->what()).find("does not match its sha256"), std::string::npos) << e->what();
  const fs::path r = repo("models--test-org--corrupt");
  EXPECT_FALSE(fs::exists(r / "refs"));
  for (const auto& b : fs::directory_iterator(r / "blobs")) {
    EXPECT_NE(b.path().filename().string().size(), 64u) << "corrupt blob kept: " << b.path();
    EXPECT_NE(b.path().extension(), ".incomplete") << b.path();
  }
}

TEST_F(HubTest, HostileFileNamesNeverBecomePaths) {
  for (const char* spec : {"test-org/evil", "test-org/evil-index"}) {
    auto e = download_error(spec);
    ASSERT_TRUE(e) << spec;
    EXPECT_EQ(e->kind(), bentov::ErrorKind::kFormat) << spec;
    EXPECT_NE(std::string(e->what()).find("unsafe file name"), std::string::npos) << e->what();
  }
  EXPECT_FALSE(fs::exists(cache_ / "escaped.txt"));
  EXPECT_FALSE(fs::exists(cache_ / "escaped.safetensors"));
  EXPECT_FALSE(fs::exists(cache_ / "hub" / "escaped.safetensors"));
}

TEST_F(HubTest, NetworkFailureIsOneLineWithAHint) {
  // A port nobody listens on: bind one, note it, close it.
  server_->stop();
  env_.set("HF_ENDPOINT", server_->url());
  auto o = options();
  o.max_attempts = 1;
  try {
    bentov::io::download_model(id("test-org/tiny-gpt2"), o);
    FAIL() << "downloaded from a stopped server";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kIo);
    EXPECT_NE(std::string(e.what()).find("cannot download"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("network"), std::string::npos) << e.hint();
  }
}

// resolve_model: the cache first, the Hub when allowed, never when offline.
TEST_F(HubTest, ResolveDownloadsOnlyWhenTheCacheLacksTheModelAndDownloadsAreAllowed) {
  bentov::io::ResolveOptions quiet{true, false};
  bentov::io::ResolveOptions offline{false, false};
  EXPECT_THROW(bentov::io::resolve_model("test-org/tiny-gpt2", offline), bentov::Error);
  env_.set("HF_HUB_OFFLINE", "1");
  try {
    bentov::io::resolve_model("test-org/tiny-gpt2", quiet);
    FAIL() << "resolved with HF_HUB_OFFLINE=1 and an empty cache";
  } catch (const bentov::Error& e) {
    EXPECT_NE(std::string(e.what()).find("HF_HUB_OFFLINE"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("bentov download test-org/tiny-gpt2"), std::string::npos) << e.hint();
  }
  EXPECT_FALSE(fs::exists(repo("models--test-org--tiny-gpt2")));
  env_.unset("HF_HUB_OFFLINE");

  const auto r = bentov::io::resolve_model("test-org/tiny-gpt2", quiet);
  EXPECT_EQ(r.name, "tiny-gpt2");
  EXPECT_EQ(r.source, "test-org/tiny-gpt2");
  EXPECT_TRUE(fs::exists(r.folder / "model.safetensors"));

  // Now cached: found with the server gone, online or offline.
  server_->stop();
  EXPECT_EQ(bentov::io::resolve_model("test-org/tiny-gpt2", quiet).folder, r.folder);
  env_.set("HF_HUB_OFFLINE", "1");
  EXPECT_EQ(bentov::io::resolve_model("test-org/tiny-gpt2", quiet).folder, r.folder);
}
