// Fuzzes tokenization of arbitrary bytes with the real GPT-2, Pythia, OPT, Llama 2, Llama 3 and
// Qwen3 tokenizers (../shared/data/tokenizers, or $BENTOV_TOKENIZERS_DIR), else with a small
// tokenizer written here. The first byte picks the tokenizer; the rest is the text. Checks:
// invalid UTF-8 is an InputError, never a crash; every id decodes; and for GPT-2 and Llama 3
// (byte-level, no normalizer) decode(encode(t)) gives t back byte for byte.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bentov/error.h"
#include "bentov/tokenizer/tokenizer.h"
#include "bentov/tokenizer/utf8.h"
#include "fuzz/fuzz_support.h"

namespace {

struct Loaded {
  std::filesystem::path dir;
  bool roundtrip;  // byte-exact decode(encode(t)) expected
  std::unique_ptr<bentov::Tokenizer> tok;  // loaded on first use: the Llama 3 and Qwen
                                           // files take seconds to parse under ASan
  const bentov::Tokenizer& get() {
    if (!tok) tok = std::make_unique<bentov::Tokenizer>(bentov::Tokenizer::load(dir));
    return *tok;
  }
};

std::vector<Loaded> load_all() {
  namespace fs = std::filesystem;
  std::vector<Loaded> out;
  const char* env = std::getenv("BENTOV_TOKENIZERS_DIR");
  const fs::path root = env && *env ? fs::path(env) : fs::path(BENTOV_SHARED_DATA_DIR) / "tokenizers";
  // Byte-level tokenizers without a normalizer give back their text exactly.
  for (const char* name : {"gpt2", "pythia", "opt", "llama2", "llama3", "qwen3"}) {
    std::error_code ec;
    if (fs::is_directory(root / name, ec)) {
      const bool exact = std::strcmp(name, "gpt2") == 0 || std::strcmp(name, "llama3") == 0;
      out.push_back({root / name, exact, nullptr});
    }
  }
  if (out.empty()) {
    // A tiny byte-level BPE: the 256 byte tokens of GPT-2's alphabet for the printable ASCII
    // range plus a few merges; other bytes have no token and are dropped, as tokenizers does.
    const auto dir = bentov::fuzz::scratch_dir() / "tiny";
    fs::create_directories(dir);
    std::string vocab = "{";
    int id = 0;
    for (char c = '!'; c <= '~'; ++c) {
      if (c == '"' || c == '\\') continue;
      vocab += std::string("\"") + c + "\": " + std::to_string(id++) + ", ";
    }
    // One id per statement: the operands of + are unsequenced.
    vocab += "\"\\u0120\": " + std::to_string(id++);
    vocab += ", \"he\": " + std::to_string(id++);
    vocab += ", \"\\u0120t\": " + std::to_string(id++);
    vocab += ", \"<|endoftext|>\": " + std::to_string(id++) + "}";
    bentov::fuzz::write_file(dir / "vocab.json", vocab);
    bentov::fuzz::write_file(dir / "merges.txt", "#version: 0.2\nh e\n\xc4\xa0 t\n");
    out.push_back({dir, false, nullptr});
    std::fprintf(stderr, "fuzz_encode: real tokenizers not found under %s, using a tiny one\n",
                 root.c_str());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::vector<Loaded> toks = load_all();
  if (size == 0) return 0;
  Loaded& t = toks[data[0] % toks.size()];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool valid = !bentov::utf8::find_invalid(text).has_value();
  try {
    const auto ids = t.get().encode(text);
    if (!valid) std::abort();  // invalid UTF-8 must be refused
    const std::string back = t.get().decode(ids);
    if (t.roundtrip && back != text) std::abort();
  } catch (const bentov::Error&) {
    if (valid) std::abort();  // valid text always tokenizes
  }
  return 0;
}
