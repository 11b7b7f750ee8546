// The tokenizer of a Hugging Face model folder: text -> ids exactly as transformers'
// AutoTokenizer(text)["input_ids"] (special tokens included), ids -> text for labels.
// Pipeline, as in tokenizers' Tokenizer::encode: cut out added tokens (added_vocabulary.h),
// normalize the rest (normalize.h), pre-tokenize with the GPT-2 regex (pretokenize.h),
// byte-level BPE each piece (bpe.h), then the post-processor's ids (OPT's leading </s>).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bentov {

class Tokenizer {
 public:
  // Loads from a model folder: tokenizer.json (BPE model, NFC or no normalizer, ByteLevel
  // pre-tokenizer, added/special tokens, post-processor), else vocab.json + merges.txt
  // (+ tokenizer_config.json: add_bos_token, bos/eos/unk/pad tokens, add_prefix_space).
  // tokenizer_config.json's add_bos_token is honoured in both cases (OPT: every text starts
  // with </s> = 2). Throws bentov::Error when files are missing/malformed.
  static Tokenizer load(const std::filesystem::path& dir);
  // Any tokenizer files present (tokenizer.json, or vocab.json and merges.txt)?
  static bool available(const std::filesystem::path& dir);

  // == HF AutoTokenizer(text)["input_ids"]. Empty text gives [] (or [bos] with add_bos_token).
  // Throws InputError when `utf8_text` is not valid UTF-8.
  std::vector<int32_t> encode(std::string_view utf8_text) const;
  // Byte-level round trip: decode(encode(t)) == t for valid UTF-8 t. Bytes that do not form
  // UTF-8 (a partial id sequence) become U+FFFD, as in HF's decode. Throws InputError for an
  // id outside the vocabulary.
  std::string decode(std::span<const int32_t> ids) const;
  // One token's decoded text, for labels (HF decode([id]); U+FFFD for partial characters).
  std::string token_text(int32_t id) const;
  // Number of distinct ids, added tokens included (HF len(tokenizer)).
  std::size_t vocab_size() const;
  // e.g. "tokenizer.json (byte-level BPE, NFC)" or "vocab.json+merges.txt (byte-level BPE)".
  std::string kind() const;

  // The raw bytes token `id` stands for (may be a partial UTF-8 character); throws InputError.
  std::string token_bytes(int32_t id) const;

  Tokenizer(const Tokenizer&) = default;
  Tokenizer(Tokenizer&&) noexcept = default;
  Tokenizer& operator=(const Tokenizer&) = default;
  Tokenizer& operator=(Tokenizer&&) noexcept = default;
  ~Tokenizer();

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;  // immutable after load (the BPE cache is internally locked)
};

}  // namespace bentov
