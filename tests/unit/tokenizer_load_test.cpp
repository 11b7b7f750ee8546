// Tests of bentov::Tokenizer as a whole: loading tiny hand-written tokenizer folders (and the
// malformed ones, which must fail with one clear error), invalid input, decoding, and the
// speed of a 10,000-character word on the real GPT-2 files (skipped without ../shared/data).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "bentov/error.h"
#include "bentov/tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using bentov::ErrorKind;
using bentov::Tokenizer;
using Ids = std::vector<int32_t>;

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("bentov_tok_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
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

// A tiny byte-level vocabulary in fairseq-like order: "</s>" = 2, "Ġ" (space) = 6.
const char* kVocab =
    R"({"<s>":0,"<pad>":1,"</s>":2,"h":3,"i":4,"hi":5,"\u0120":6,"\u0120hi":7,"!":8})";
const char* kMerges = "#version: 0.2\nh i\n\u0120 hi\n";

ErrorKind load_error(const fs::path& dir, std::string* message = nullptr) {
  try {
    (void)Tokenizer::load(dir);
  } catch (const bentov::Error& e) {
    if (message) *message = e.what();
    EXPECT_FALSE(e.hint().empty());
    return e.kind();
  }
  ADD_FAILURE() << "loading " << dir << " did not fail";
  return ErrorKind::kUsage;
}

TEST(TokenizerLoad, VocabMergesWithAddBosToken) {
  TempDir d;
  d.write("vocab.json", kVocab);
  d.write("merges.txt", kMerges);
  d.write("tokenizer_config.json",
          R"({"add_bos_token": true, "bos_token": "</s>", "eos_token": "</s>", "pad_token": "<pad>"})");
  ASSERT_TRUE(Tokenizer::available(d.path()));
  const Tokenizer tok = Tokenizer::load(d.path());
  EXPECT_EQ(tok.encode(""), (Ids{2}));
  EXPECT_EQ(tok.encode("hi hi!"), (Ids{2, 5, 7, 8}));
  EXPECT_EQ(tok.encode("hi</s>hi"), (Ids{2, 5, 2, 5}));  // special tokens inside the text
  EXPECT_EQ(tok.decode(Ids{5, 7, 8}), "hi hi!");
  EXPECT_EQ(tok.token_text(7), " hi");
  // GPT2Tokenizer's default unk_token "<|endoftext|>" (the config names none) is added after
  // the vocabulary, as transformers does: 9 entries + 1.
  EXPECT_EQ(tok.vocab_size(), 10u);
  EXPECT_EQ(tok.encode("<|endoftext|>"), (Ids{2, 9}));
  EXPECT_EQ(tok.kind(), "vocab.json+merges.txt (byte-level BPE)");
}

TEST(TokenizerLoad, TokenizerJsonWithTemplateAndNfc) {
  TempDir d;
  d.write("tokenizer.json", std::string(R"({
    "added_tokens": [{"id": 2, "content": "</s>", "special": true, "normalized": false,
                      "lstrip": false, "rstrip": false, "single_word": false}],
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "</s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
    "model": {"type": "BPE", "vocab": )") + kVocab + R"(, "merges": [["h", "i"], "\u0120 hi"]}})");
  const Tokenizer tok = Tokenizer::load(d.path());
  EXPECT_EQ(tok.encode("hi hi"), (Ids{2, 5, 7}));
  EXPECT_EQ(tok.kind(), "tokenizer.json (byte-level BPE, NFC)");
}

TEST(TokenizerLoad, MissingFilesAreIoErrors) {
  TempDir empty;
  EXPECT_FALSE(Tokenizer::available(empty.path()));
  EXPECT_EQ(load_error(empty.path()), ErrorKind::kIo);
  EXPECT_EQ(load_error(empty.path() / "nope"), ErrorKind::kIo);
  TempDir only_merges;
  only_merges.write("merges.txt", kMerges);
  std::string msg;
  EXPECT_EQ(load_error(only_merges.path(), &msg), ErrorKind::kIo);
  EXPECT_NE(msg.find("vocab.json"), std::string::npos) << msg;
}

TEST(TokenizerLoad, BadJsonIsAFormatError) {
  TempDir d;
  d.write("vocab.json", "{\"a\": 1,");
  d.write("merges.txt", kMerges);
  std::string msg;
  EXPECT_EQ(load_error(d.path(), &msg), ErrorKind::kFormat);
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;
  TempDir t;
  t.write("tokenizer.json", "[1, 2");
  EXPECT_EQ(load_error(t.path()), ErrorKind::kFormat);
  TempDir ids;
  ids.write("vocab.json", R"({"a": "one"})");
  ids.write("merges.txt", "");
  EXPECT_EQ(load_error(ids.path()), ErrorKind::kFormat);
}

TEST(TokenizerLoad, MergesNamingUnknownTokensAreFormatErrors) {
  TempDir d;
  d.write("vocab.json", kVocab);
  d.write("merges.txt", "#version: 0.2\nh i\nq z\n");
  std::string msg;
  EXPECT_EQ(load_error(d.path(), &msg), ErrorKind::kFormat);
  EXPECT_NE(msg.find("'q'"), std::string::npos) << msg;
  TempDir bad_line;
  bad_line.write("vocab.json", kVocab);
  bad_line.write("merges.txt", "hi\n");
  EXPECT_EQ(load_error(bad_line.path()), ErrorKind::kFormat);
}

TEST(TokenizerLoad, NonBpeTokenizersAreUnsupported) {
  TempDir d;
  d.write("tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {}}})");
  EXPECT_EQ(load_error(d.path()), ErrorKind::kUnsupported);
}

TEST(TokenizerEncode, InvalidUtf8IsAnInputError) {
  TempDir d;
  d.write("vocab.json", kVocab);
  d.write("merges.txt", kMerges);
  const Tokenizer tok = Tokenizer::load(d.path());
  try {
    (void)tok.encode("hi \xFF there");
    FAIL();
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("byte offset 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)tok.decode(Ids{99}), bentov::Error);
}

// ---- on the real files ----------------------------------------------------------------------

fs::path shared_tokenizer(const char* name) {
  return fs::path(BENTOV_SHARED_DATA_DIR) / "tokenizers" / name;
}

TEST(TokenizerReal, TenThousandCharacterWordIsFast) {
  const fs::path dir = shared_tokenizer("gpt2");
  if (!fs::exists(dir)) GTEST_SKIP() << "no tokenizer files at " << dir << " (../shared/data is absent)";
  const Tokenizer tok = Tokenizer::load(dir);
  std::mt19937 rng(7);
  std::string word;
  for (int i = 0; i < 10000; ++i) word.push_back(static_cast<char>('a' + rng() % 26));
  for (const std::string& w : {word, std::string(10000, 'a')}) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok.encode(w);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 0.25) << "a 10,000-character word took " << s << " s";
    EXPECT_EQ(tok.decode(ids), w);
  }
}

TEST(TokenizerReal, KnownIdsAndLabels) {
  const fs::path gpt2 = shared_tokenizer("gpt2"), opt = shared_tokenizer("opt"),
                 pythia = shared_tokenizer("pythia");
  if (!fs::exists(gpt2) || !fs::exists(opt) || !fs::exists(pythia)) {
    GTEST_SKIP() << "tokenizer files not found under " << gpt2.parent_path();
  }
  const Tokenizer g = Tokenizer::load(gpt2);
  EXPECT_EQ(g.encode("Hello world<|endoftext|>"), (Ids{15496, 995, 50256}));
  EXPECT_EQ(g.token_text(995), " world");
  EXPECT_EQ(g.token_text(50256), "<|endoftext|>");
  // A token holding part of a character decodes to U+FFFD on its own.
  const auto emoji = g.encode("\xF0\x9F\x98\x80");
  ASSERT_GT(emoji.size(), 1u);
  EXPECT_EQ(g.token_text(emoji[0]), "\xEF\xBF\xBD");
  EXPECT_EQ(g.decode(emoji), "\xF0\x9F\x98\x80");
  EXPECT_EQ(g.kind(), "tokenizer.json (byte-level BPE)");
  const Tokenizer o = Tokenizer::load(opt);
  EXPECT_EQ(o.encode(""), (Ids{2}));
  EXPECT_EQ(o.kind(), "vocab.json+merges.txt (byte-level BPE)");
  const Tokenizer p = Tokenizer::load(pythia);
  EXPECT_EQ(p.encode("<|endoftext|>  x"), (Ids{0, 50276, 89}));
  EXPECT_EQ(p.token_text(50276), "  ");
  EXPECT_EQ(p.kind(), "tokenizer.json (byte-level BPE, NFC)");
}

}  // namespace
