// `bentov tokenize` as users run it on the real Llama-family tokenizers: the ids, and with
// --tokens the labels, are Hugging Face's (the conformance vectors of
// tests/data/tokenizer/tokenizer_vectors.json); skipped without ../shared/data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "support/cli.h"

namespace {

namespace fs = std::filesystem;
using bentov::testing::run_cli;
using nlohmann::json;

// A shell word holding `s` (single quotes, each ' written as '\'').
std::string quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

TEST(TokenizerCli, IdsAndTokensMatchHuggingFace) {
  std::ifstream in(fs::path(BENTOV_TEST_DATA_DIR) / "tokenizer" / "tokenizer_vectors.json", std::ios::binary);
  const json doc = json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  for (const std::string name : {"llama2", "llama3", "qwen3"}) {
    const fs::path dir = fs::path(BENTOV_SHARED_DATA_DIR) / "tokenizers" / name;
    if (!fs::exists(dir)) GTEST_SKIP() << "no tokenizer files at " << dir << " (../shared/data is absent)";
    // Two texts of the vectors that carry labels; the command must print what HF does.
    int checked = 0;
    for (const auto& c : doc["cases"]) {
      if (!c.contains("labels") || checked >= 2) continue;
      const std::string t = c["text"].get<std::string>();
      if (t.find('\'') == std::string::npos && t.find('<') == std::string::npos) continue;
      const auto ids = run_cli("tokenize " + quote(dir.string()) + " --text " + quote(t));
      ASSERT_EQ(ids.rc, 0) << ids.err;
      EXPECT_EQ(json::parse(ids.out), c["ids"][name]) << name << " " << json(t).dump();
      const auto labels = run_cli("tokenize " + quote(dir.string()) + " --tokens --text " + quote(t));
      ASSERT_EQ(labels.rc, 0) << labels.err;
      EXPECT_EQ(json::parse(labels.out), c["labels"][name]) << name << " " << json(t).dump();
      ++checked;
    }
    EXPECT_EQ(checked, 2) << name;
  }
}

}  // namespace
