// Added tokens (tokenizer.json "added_tokens", or the special tokens of tokenizer_config.json):
// strings such as "<|endoftext|>" or Pythia's runs of spaces that are cut out of the text
// before pre-tokenization and become one id each. Mirrors tokenizers'
// tokenizer/added_vocabulary.rs: tokens with normalized=false are matched on the raw text,
// the others on each remaining piece after normalization, both leftmost-longest (its
// Aho-Corasick MatchKind::LeftmostLongest, here a byte trie), honouring single_word, lstrip
// and rstrip as find_matches() does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bentov/tokenizer/normalizer.h"

namespace bentov {

struct AddedToken {
  std::string content;
  std::int32_t id = -1;
  bool special = false;
  bool normalized = true;   // matched on the normalized text (true) or on the raw text (false)
  bool lstrip = false;      // swallows the whitespace on its left
  bool rstrip = false;      // swallows the whitespace on its right
  bool single_word = false; // matches only when not inside a word
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // `normalizer` is applied to the contents of normalized tokens to build their patterns.
  AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer& normalizer);

  // A stretch of text: an added token (id >= 0) or text still to be tokenized (id == -1).
  struct Piece {
    std::string_view text;
    std::int32_t id;
  };

  // Splits `text` on the raw (normalized=false) tokens; appends pieces tiling `text`.
  void split_raw(std::string_view text, std::vector<Piece>& out) const;
  // Splits already-normalized `text` on the normalized tokens.
  void split_normalized(std::string_view text, std::vector<Piece>& out) const;

  bool has_raw() const { return raw_.nodes.size() > 1; }
  bool has_normalized() const { return normalized_.nodes.size() > 1; }
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  // The token with `id`, or nullptr.
  const AddedToken* find(std::int32_t id) const;
  // Id of the added token whose content is `content`, or -1.
  std::int32_t find(std::string_view content) const;

 private:
  struct Node {
    std::vector<std::pair<unsigned char, std::int32_t>> children;  // sorted by byte
    std::int32_t token = -1;                                       // index into tokens_
  };
  struct Trie {
    std::vector<Node> nodes{Node{}};  // [0] is the root
    bool starts[256] = {};            // bytes a pattern can start with
    void insert(std::string_view pattern, std::int32_t token);
    // Longest pattern starting at text[pos]: {length, token index}, or {0, -1}.
    std::pair<std::size_t, std::int32_t> longest_at(std::string_view text, std::size_t pos) const;
  };
  void split(const Trie& trie, std::string_view text, std::vector<Piece>& out) const;

  std::vector<AddedToken> tokens_;
  Trie raw_;
  Trie normalized_;
};

}  // namespace bentov
