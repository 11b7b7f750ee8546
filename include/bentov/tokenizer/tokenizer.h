// The tokenizer of a Hugging Face model folder: text -> ids exactly as transformers'
// AutoTokenizer(text)["input_ids"] (special tokens included), ids -> text for labels.
// Pipeline, as in tokenizers' Tokenizer::encode: cut out added tokens (added_vocabulary.h),
// normalize the rest (normalizer.h), pre-tokenize (pre_tokenizer.h), BPE each word (bpe.h),
// then the post-processor's ids (Llama 2's <s>, OPT's leading </s>); decoding runs the
// decoder (decoder.h). The components are those transformers' AutoTokenizer would run
// (tokenizer_files.h, transformers_class.h).
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
  // Loads from a model folder: tokenizer.json (BPE model, normalizer, pre-tokenizer,
  // added/special tokens, post-processor, decoder), else vocab.json + merges.txt, with
  // tokenizer_config.json (tokenizer_class, bos/eos/unk/pad tokens, add_prefix_space, legacy;
  // add_bos_token / add_eos_token only without tokenizer.json, as transformers: OPT's
  // vocab.json folder starts every text with </s> = 2). Throws bentov::Error when files are
  // missing/malformed, UnsupportedError naming a component bentov does not implement.
  static Tokenizer load(const std::filesystem::path& dir);
  // Any tokenizer files present (tokenizer.json, or vocab.json and merges.txt)?
  static bool available(const std::filesystem::path& dir);

  // == HF AutoTokenizer(text)["input_ids"]. Empty text gives [] (or [bos] with add_bos_token).
  // Throws InputError when `utf8_text` is not valid UTF-8.
  std::vector<int32_t> encode(std::string_view utf8_text) const;
  // The decoder over the ids' tokens (HF backend_tokenizer.decode, special tokens kept); for
  // byte-level tokenizers decode(encode(t)) == t. Bytes that do not form UTF-8 (a partial id
  // sequence) become U+FFFD, as in HF's decode. Throws InputError for an id outside the vocabulary.
  std::string decode(std::span<const int32_t> ids) const;
  // One token through the decoder alone, for labels (HF decoder.decode([token]); U+FFFD for
  // partial characters; Llama 2's Strip decoder drops the leading space).
  std::string token_text(int32_t id) const;
  // Number of distinct ids, added tokens included (HF len(tokenizer)).
  std::size_t vocab_size() const;
  // e.g. "tokenizer.json (byte-level BPE, NFC)", "vocab.json+merges.txt (byte-level BPE)",
  // "tokenizer.json (BPE, Metaspace, byte fallback)".
  std::string kind() const;

  // The raw bytes token `id` stands for under a ByteLevel decoder (may be a partial UTF-8
  // character), else the token's own string; throws InputError.
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
