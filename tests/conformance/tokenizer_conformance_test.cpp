// Replays the Hugging Face conformance vectors of tests/data/tokenizer/tokenizer_vectors.json
// (written by scripts/gen_tokenizer_vectors.py from transformers' AutoTokenizer) against the
// real tokenizer files of ../shared/data/tokenizers, in the manner of llama.cpp's
// tests/test-tokenizer-0.cpp. Every string must match; the first mismatch is printed whole.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "bentov/tokenizer/normalize.h"
#include "bentov/tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// $BENTOV_TOKENIZER_VECTORS replays another vector file (e.g. one made with --seed N).
const fs::path kVectors = std::getenv("BENTOV_TOKENIZER_VECTORS")
                              ? fs::path(std::getenv("BENTOV_TOKENIZER_VECTORS"))
                              : fs::path(BENTOV_TEST_DATA_DIR) / "tokenizer" / "tokenizer_vectors.json";
const fs::path kShared = fs::path(BENTOV_SHARED_DATA_DIR);

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const json& vectors() {
  static const json doc = json::parse(slurp(kVectors));
  return doc;
}

std::string show_ids(const std::vector<int32_t>& ids) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < ids.size(); ++i) os << (i ? "," : "") << ids[i];
  os << ']';
  return os.str();
}

// The string with control and non-ASCII characters escaped, for the failure message.
std::string show_text(const std::string& s) { return json(s).dump(); }

std::string fnv1a64(const std::vector<int32_t>& ids) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  bool first = true;
  auto feed = [&](char c) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  };
  for (const int32_t id : ids) {
    if (!first) feed(',');
    first = false;
    for (const char c : std::to_string(id)) feed(c);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

class TokenizerConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = kShared / "tokenizers" / GetParam();
    if (!fs::exists(dir_)) {
      GTEST_SKIP() << "tokenizer files not found at " << dir_ << " (../shared/data is absent)";
    }
    ASSERT_TRUE(fs::exists(kVectors)) << kVectors;
  }
  fs::path dir_;
};

TEST_P(TokenizerConformance, EveryStringMatchesHuggingFace) {
  const bentov::Tokenizer tok = bentov::Tokenizer::load(dir_);
  const std::string name = GetParam();
  std::size_t checked = 0, failed = 0;
  std::string first_failure;
  for (const auto& c : vectors()["cases"]) {
    if (!c["ids"].contains(name)) continue;
    const std::string text = c["text"].get<std::string>();
    const auto expected = c["ids"][name].get<std::vector<int32_t>>();
    const std::vector<int32_t> got = tok.encode(text);
    ++checked;
    if (got != expected) {
      if (failed++ == 0) {
        first_failure = "text " + show_text(text) + "\n  expected " + show_ids(expected) +
                        "\n  got      " + show_ids(got);
      }
    }
  }
  EXPECT_GT(checked, 1000u);
  EXPECT_EQ(failed, 0u) << name << ": " << failed << " of " << checked
                        << " strings differ from Hugging Face; first:\n  " << first_failure;
}

TEST_P(TokenizerConformance, WholeCorpusFilesMatchHuggingFace) {
  const bentov::Tokenizer tok = bentov::Tokenizer::load(dir_);
  const std::string name = GetParam();
  for (const auto& entry : vectors()["corpus"]) {
    const fs::path file = kShared / "corpus" / entry["file"].get<std::string>();
    if (!fs::exists(file)) continue;
    const std::string text = slurp(file);
    const auto ids = tok.encode(text);
    const auto& want = entry[name];
    const auto head = want["head"].get<std::vector<int32_t>>();
    EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(
                                                                 std::min(ids.size(), head.size()))),
              head)
        << file;
    EXPECT_EQ(ids.size(), want["n"].get<std::size_t>()) << file;
    EXPECT_EQ(fnv1a64(ids), want["fnv1a64"].get<std::string>()) << file;
  }
}

TEST_P(TokenizerConformance, VocabSizeMatchesHuggingFaceLen) {
  const bentov::Tokenizer tok = bentov::Tokenizer::load(dir_);
  EXPECT_EQ(tok.vocab_size(), vectors()["meta"][GetParam()]["len"].get<std::size_t>());
}

// The byte-level decoders give back the exact text; Llama 2's Strip decoder drops the first
// space, so its decoding is checked against Hugging Face's instead (below).
TEST_P(TokenizerConformance, DecodeRoundTripsEveryString) {
  const bentov::Tokenizer tok = bentov::Tokenizer::load(dir_);
  if (tok.kind().find("byte-level") == std::string::npos) GTEST_SKIP() << tok.kind() << " does not round-trip";
  const std::size_t skip = tok.encode("").size();  // OPT's leading </s>
  // Pythia normalizes to NFC, so its round trip gives the NFC form (pieces between special
  // tokens are normalized apart; the texts with "<|" are left out of that comparison).
  const bool nfc = tok.kind().find("NFC") != std::string::npos;
  for (const auto& c : vectors()["cases"]) {
    std::string text = c["text"].get<std::string>();
    if (nfc) {
      if (text.find("<|") != std::string::npos) continue;
      std::string n;
      bentov::normalize(bentov::Normalization::kNfc, text, n);
      text = n;
    }
    const auto ids = tok.encode(text);
    const std::span<const int32_t> body(ids.data() + skip, ids.size() - skip);
    ASSERT_EQ(tok.decode(body), text) << show_text(text);
  }
}

// The hand-written strings carry Hugging Face's decoding of the ids and the label of every
// token (backend_tokenizer.decoder.decode([token])), what `bentov tokenize --tokens` prints.
TEST_P(TokenizerConformance, DecodingAndLabelsMatchHuggingFace) {
  const bentov::Tokenizer tok = bentov::Tokenizer::load(dir_);
  const std::string name = GetParam();
  std::size_t checked = 0;
  for (const auto& c : vectors()["cases"]) {
    if (!c.contains("labels") || !c["labels"].contains(name)) continue;
    const auto ids = c["ids"][name].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.decode(ids), c["decoded"][name].get<std::string>()) << show_text(c["text"].get<std::string>());
    const auto labels = c["labels"][name].get<std::vector<std::string>>();
    ASSERT_EQ(labels.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(tok.token_text(ids[i]), labels[i])
          << "token " << ids[i] << " of " << show_text(c["text"].get<std::string>());
    }
    ++checked;
  }
  EXPECT_GT(checked, 200u);
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, TokenizerConformance,
                         ::testing::Values("gpt2", "pythia", "opt", "llama2", "llama3", "qwen3"),
                         [](const auto& info) { return info.param; });

// The shared tokenizer.json files under other transformers classes and settings (the
// generator's VARIANTS): a link to the file beside the tokenizer_config.json / config.json of
// the vectors, compared id for id with AutoTokenizer on the same folder.
TEST(TokenizerVariants, EveryStringMatchesHuggingFace) {
  if (!fs::exists(kShared / "tokenizers")) GTEST_SKIP() << "../shared/data is absent";
  const fs::path root = fs::temp_directory_path() / ("bentov_variants_" + std::to_string(::getpid()));
  std::size_t variants = 0;
  for (const auto& [name, v] : vectors()["variants"].items()) {
    const fs::path dir = root / name;
    fs::create_directories(dir);
    fs::create_symlink(fs::absolute(kShared / "tokenizers" / v["base"].get<std::string>() / "tokenizer.json"),
                       dir / "tokenizer.json");
    std::ofstream(dir / "tokenizer_config.json") << v["tokenizer_config"].dump();
    if (!v["config"].is_null()) std::ofstream(dir / "config.json") << v["config"].dump();
    const bentov::Tokenizer tok = bentov::Tokenizer::load(dir);
    EXPECT_EQ(tok.vocab_size(), v["len"].get<std::size_t>()) << name;
    std::size_t failed = 0;
    std::string first;
    for (const auto& c : v["cases"]) {
      const auto expected = c[1].get<std::vector<int32_t>>();
      const auto got = tok.encode(c[0].get<std::string>());
      if (got != expected && failed++ == 0) {
        first = "text " + show_text(c[0].get<std::string>()) + "\n  expected " + show_ids(expected) +
                "\n  got      " + show_ids(got);
      }
    }
    EXPECT_EQ(failed, 0u) << name << " (" << v["class"].get<std::string>() << "): " << failed << " of "
                          << v["cases"].size() << " differ; first:\n  " << first;
    ++variants;
  }
  std::error_code ec;
  fs::remove_all(root, ec);
  EXPECT_GE(variants, 8u);
}

}  // namespace
