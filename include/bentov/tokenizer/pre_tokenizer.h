// The pre-tokenizer of tokenizer.json: the steps that cut normalized text into the words BPE
// runs on, each applied to every piece the previous one left (tokenizers'
// pre_tokenizers/{sequence,split,byte_level,metaspace,digits,punctuation,whitespace}.rs):
//   Split        a String or Regex pattern, behavior Removed | Isolated | MergedWithPrevious |
//                MergedWithNext | Contiguous, and `invert` (tokenizer/normalizer.rs split)
//   ByteLevel    optional prefix space, optional GPT-2 regex; the words are then BPE'd in the
//                byte-level alphabet (the model maps the bytes, see bpe.h)
//   Metaspace    ' ' -> replacement, prepend_scheme always | first | never, optional split
//   Digits, Punctuation, Whitespace, WhitespaceSplit, and Sequence (flattened).
// Other types are refused with an UnsupportedError naming them.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bentov {

// Reusable buffers of one pre-tokenization (words point into the input or into these).
struct PreTokenScratch {
  struct Piece {
    std::string_view text;
    bool at_start;  // begins at offset 0 of the original text (Metaspace prepend_scheme first)
  };
  std::vector<Piece> pieces, next;
  std::vector<std::string> buffers;  // one per transforming step
  std::vector<std::string_view> words;
};

class PreTokenizer {
 public:
  // From tokenizer.json's "pre_tokenizer" (nullptr / null: the text is one word).
  static PreTokenizer from_json(const nlohmann::json* spec, const std::string& where);

  // Splits `text` into scratch.words, in order. `at_start`: `text` begins the original text.
  void split(std::string_view text, bool at_start, PreTokenScratch& scratch) const;

  // True when a ByteLevel step ran: the words are raw bytes for the byte-level alphabet.
  bool byte_level() const { return byte_level_; }
  // "ByteLevel", "Split+ByteLevel", "Metaspace", ... ("" for none).
  std::string describe() const;

  struct Step;

 private:
  std::vector<std::shared_ptr<const Step>> steps_;
  bool byte_level_ = false;
};

}  // namespace bentov
