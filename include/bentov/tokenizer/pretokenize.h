// The GPT-2 pre-tokenizer: splits text into the pieces BPE runs on, with the regex of
// openai/gpt-2 encoder.py that tokenizers' pre_tokenizers/byte_level.rs also uses:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// The ByteLevel step of pre_tokenizer.h uses the same pattern; this class is that split alone,
// for tests. Run through regex.h (PCRE2 with Oniguruma's \s, the White_Space property).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

namespace bentov {

class GptPreTokenizer {
 public:
  GptPreTokenizer();
  ~GptPreTokenizer();
  GptPreTokenizer(const GptPreTokenizer&) = delete;
  GptPreTokenizer& operator=(const GptPreTokenizer&) = delete;

  // Appends the pieces of valid UTF-8 `text` to `out`, in order; they tile `text` exactly
  // (a stretch the regex does not match becomes a piece too, as tokenizers' Isolated split does).
  void split(std::string_view text, std::vector<std::string_view>& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bentov
