// `bentov download` and the automatic download of `info` against the local imitation of the
// Hub (tests/support/hf_hub_server.py): the cache filled, then read offline; errors as one
// line and a hint with the exit codes of DESIGN.md section 2.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "support/cli.h"
#include "support/hub_server.h"

namespace fs = std::filesystem;
using bentov::testing::HubEnv;
using bentov::testing::HubServer;
using bentov::testing::run_cli;
using bentov::testing::slurp_file;

namespace {

class HubCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "python3 is needed for the local Hub server";
    }
    server_ = std::make_unique<HubServer>();
    ASSERT_TRUE(server_->ok()) << "tests/support/hf_hub_server.py did not start";
    cache_ = fs::temp_directory_path() /
             ("bentov_hub_cli_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(cache_);
    fs::create_directories(cache_);
    env_.set("HF_ENDPOINT", server_->url());
    env_.set("HF_HUB_CACHE", cache_.string());
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(cache_, ec);
  }
  fs::path repo(const std::string& folder) const { return cache_ / folder; }

  HubEnv env_;
  std::unique_ptr<HubServer> server_;
  fs::path cache_;
};

}  // namespace

// The command line end to end: `bentov download`, then `bentov info` offline from the cache.
TEST_F(HubCliTest, CliDownloadThenInfoOffline) {
  auto d = run_cli("download test-org/gpt2-demo --quiet");
  ASSERT_EQ(d.rc, 0) << d.err;
  const fs::path r = repo("models--test-org--gpt2-demo");
  const std::string commit = slurp_file(r / "refs" / "main");
  EXPECT_NE(d.out.find((r / "snapshots" / commit).string()), std::string::npos) << d.out;
  EXPECT_EQ(d.err, "");  // --quiet

  server_->stop();
  env_.set("HF_HUB_OFFLINE", "1");
  auto info = run_cli("info test-org/gpt2-demo");
  ASSERT_EQ(info.rc, 0) << info.err;
  EXPECT_NE(info.out.find("gpt2"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("tokenizer"), std::string::npos) << info.out;
  auto missing = run_cli("info test-org/tiny-gpt2");
  EXPECT_EQ(missing.rc, 3);
  EXPECT_NE(missing.err.find("downloads are off"), std::string::npos) << missing.err;
}

TEST_F(HubCliTest, CliDownloadsAutomaticallyAndReportsErrorsCleanly) {
  auto info = run_cli("info test-org/tiny-gpt2");  // not cached: fetched on the way
  ASSERT_EQ(info.rc, 0) << info.err;
  EXPECT_NE(info.err.find("model.safetensors"), std::string::npos) << info.err;  // progress
  EXPECT_NE(info.err.find("resuming"), std::string::npos) << info.err;

  auto offline = run_cli("info test-org/opt-sharded --offline");
  EXPECT_EQ(offline.rc, 3);
  EXPECT_NE(offline.err.find("--offline"), std::string::npos) << offline.err;

  auto gated = run_cli("download test-org/gated");
  EXPECT_EQ(gated.rc, 3);
  EXPECT_NE(gated.err.find("bentov: error: "), std::string::npos) << gated.err;
  EXPECT_NE(gated.err.find("HTTP 401"), std::string::npos) << gated.err;
  EXPECT_NE(gated.err.find("hint: set HF_TOKEN"), std::string::npos) << gated.err;

  auto unknown = run_cli("download test-org/nothing-here --quiet");
  EXPECT_EQ(unknown.rc, 3);
  EXPECT_NE(unknown.err.find("HTTP 404"), std::string::npos) << unknown.err;
  EXPECT_EQ(std::count(unknown.err.begin(), unknown.err.end(), '\n'), 2) << unknown.err;  // error + hint

  auto bad = run_cli("download ../etc");
  EXPECT_EQ(bad.rc, 2) << bad.err;
}
