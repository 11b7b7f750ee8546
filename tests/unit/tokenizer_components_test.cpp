// Each tokenizer.json component alone against Hugging Face tokenizers: the vectors of
// tests/data/tokenizer/component_vectors.json (scripts/gen_tokenizer_vectors.py --components)
// hold toy normalizers, pre-tokenizers, decoders and BPE models serialized by the tokenizers
// library with its own output on a set of hard strings (normalize_str, pre_tokenize_str,
// decode, encode). Then the refusals: a component bentov does not implement is an
// UnsupportedError of one line that names it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <unistd.h>

#include "bentov/error.h"
#include "bentov/tokenizer/decoder.h"
#include "bentov/tokenizer/normalizer.h"
#include "bentov/tokenizer/pre_tokenizer.h"
#include "bentov/tokenizer/regex.h"
#include "bentov/tokenizer/tokenizer.h"
#include "bentov/tokenizer/utf8.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const json& vectors() {
  static const json doc = [] {
    std::ifstream in(fs::path(BENTOV_TEST_DATA_DIR) / "tokenizer" / "component_vectors.json", std::ios::binary);
    return json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }();
  return doc;
}

std::string show(const std::string& s) { return json(s).dump(); }

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() / ("bentov_tokc_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(TokenizerComponents, NormalizersMatchHuggingFace) {
  std::size_t n = 0;
  for (const auto& group : vectors()["normalizers"]) {
    const bentov::Normalizer norm = bentov::Normalizer::from_json(&group["spec"], "test");
    for (const auto& c : group["cases"]) {
      std::string out;
      norm.apply(c[0].get<std::string>(), out);
      EXPECT_EQ(out, c[1].get<std::string>()) << group["spec"].dump() << " on " << show(c[0]);
      ++n;
    }
  }
  EXPECT_GT(n, 300u);
}

TEST(TokenizerComponents, PreTokenizersMatchHuggingFace) {
  std::size_t n = 0;
  bentov::PreTokenScratch scratch;
  for (const auto& group : vectors()["pre_tokenizers"]) {
    const bentov::PreTokenizer pre = bentov::PreTokenizer::from_json(&group["spec"], "test");
    for (const auto& c : group["cases"]) {
      const std::string text = c[0].get<std::string>();  // the words point into it
      pre.split(text, /*at_start=*/true, scratch);
      std::vector<std::string> got;
      for (const auto w : scratch.words) got.push_back(bentov::utf8::repair_lossy(w));
      EXPECT_EQ(got, c[1].get<std::vector<std::string>>()) << group["spec"].dump() << " on " << show(c[0]);
      ++n;
    }
  }
  EXPECT_GT(n, 700u);
}

TEST(TokenizerComponents, DecodersMatchHuggingFace) {
  for (const auto& group : vectors()["decoders"]) {
    const bentov::Decoder dec = bentov::Decoder::from_json(&group["spec"], "test");
    for (const auto& c : group["cases"]) {
      EXPECT_EQ(dec.decode(c[0].get<std::vector<std::string>>()), c[1].get<std::string>())
          << group["spec"].dump() << " on " << c[0].dump();
    }
  }
}

TEST(TokenizerComponents, BpeOptionsMatchHuggingFace) {
  for (const auto& m : vectors()["models"]) {
    TempDir d;
    d.write("tokenizer.json", m["tokenizer"].dump());
    const bentov::Tokenizer tok = bentov::Tokenizer::load(d.path());
    for (const auto& c : m["cases"]) {
      EXPECT_EQ(tok.encode(c[0].get<std::string>()), c[1].get<std::vector<int32_t>>())
          << m["name"] << " on " << show(c[0]);
    }
  }
}

TEST(TokenizerComponents, RegexTranslationKeepsOnigurumaClasses) {
  // \s is White_Space (U+0085 included, which PCRE2's UCP \s leaves out); \S inside brackets
  // has no PCRE2 spelling and is refused.
  const bentov::Regex ws("\\s+", "test");
  std::vector<bentov::Span> hits;
  ws.find_all("a\xC2\x85" "b", hits);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].begin, 1u);
  EXPECT_EQ(hits[0].end, 3u);
  EXPECT_THROW(bentov::Regex("[\\S]", "test"), bentov::Error);
  EXPECT_EQ(bentov::translate_onig_pattern("[^\\s]", "t").find("\\s"), std::string::npos);
}

// One unimplemented component of each kind: the error names it, on one line, with a hint.
TEST(TokenizerComponents, UnimplementedComponentsAreRefusedByName) {
  const std::string vocab = R"({"a": 0, "b": 1, "ab": 2})";
  const std::vector<std::pair<std::string, std::string>> files = {
      {"BertNormalizer", R"({"normalizer": {"type": "BertNormalizer"}, "model": {"type": "BPE", "vocab": )" + vocab +
                             R"(, "merges": ["a b"]}})"},
      {"BertPreTokenizer", R"({"pre_tokenizer": {"type": "BertPreTokenizer"}, "model": {"type": "BPE", "vocab": )" +
                               vocab + R"(, "merges": ["a b"]}})"},
      {"WordPiece", R"({"decoder": {"type": "WordPiece"}, "model": {"type": "BPE", "vocab": )" + vocab +
                        R"(, "merges": ["a b"]}})"},
      {"Unigram", R"({"model": {"type": "Unigram", "vocab": [["a", 0.0]]}})"},
      {"dropout", R"({"model": {"type": "BPE", "dropout": 0.1, "vocab": )" + vocab + R"(, "merges": ["a b"]}})"},
      {"StripAccents", R"({"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}]},
                          "model": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": ["a b"]}})"},
  };
  for (const auto& [name, text] : files) {
    TempDir d;
    d.write("tokenizer.json", text);
    try {
      (void)bentov::Tokenizer::load(d.path());
      ADD_FAILURE() << name << " was accepted";
    } catch (const bentov::Error& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.kind(), bentov::ErrorKind::kUnsupported) << what;
      EXPECT_NE(what.find(name), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_FALSE(e.hint().empty()) << name;
    }
  }
  // A transformers class that rebuilds its pipeline in code bentov does not reproduce.
  TempDir t5;
  t5.write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": )" + vocab + R"(, "merges": ["a b"]}})");
  t5.write("tokenizer_config.json", R"({"tokenizer_class": "T5TokenizerFast"})");
  try {
    (void)bentov::Tokenizer::load(t5.path());
    ADD_FAILURE() << "T5Tokenizer was accepted";
  } catch (const bentov::Error& e) {
    EXPECT_NE(std::string(e.what()).find("T5Tokenizer"), std::string::npos) << e.what();
  }
}

}  // namespace
