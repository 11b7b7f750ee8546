// The BPE model of tokenizer.json (tokenizers' models/bpe/{model,word}.rs): a vocabulary
// (token -> id) and ranked merges, applied to one pre-tokenized word at a time.
// A word is first cut into symbols, one per character (model.rs merge_word): a character
// missing from the vocabulary becomes its bytes' "<0xNN>" tokens with byte_fallback, else the
// unk token (runs of them fused into one with fuse_unk), else nothing;
// continuing_subword_prefix / end_of_word_suffix decorate the non-first / last character.
// Byte-level vocabularies (GPT-2 alphabet, see byte_level.h) take the word as raw bytes and
// map each byte to its symbol directly. Then all adjacent pairs that have a merge sit in a
// min-heap keyed by (rank, position) (word.rs merge_all): the lowest is merged, stale entries
// are skipped, the two new neighbour pairs are pushed; O(n log n), so a 10,000-byte word is
// fast. Results are cached per word.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bentov {

// Hash for unordered maps keyed by std::string that are looked up with std::string_view.
struct StringViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using Vocab = std::unordered_map<std::string, std::int32_t, StringViewHash, std::equal_to<>>;

struct BpeOptions {
  bool byte_level_input = false;  // words are raw bytes, the vocabulary is in the byte alphabet
  bool ignore_merges = false;     // a word that is a vocabulary entry is taken whole (Llama 3)
  bool byte_fallback = false;     // unknown characters -> "<0xNN>" tokens (Llama 2)
  bool fuse_unk = false;          // consecutive unknowns -> one unk token
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;  // e.g. "##"; "" for none
  std::string end_of_word_suffix;         // e.g. "</w>"; "" for none
};

class BpeModel {
 public:
  // `merges` in rank order (rank 0 first). Throws FormatError when a merge names a token, or
  // yields a token, that is not in the vocabulary (tokenizers refuses such files too:
  // MergeTokenOutOfVocabulary), or when unk_token is not in it.
  BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options = {},
           std::string source = "vocabulary");
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-tokenized word.
  void encode_word(std::string_view word, std::vector<std::int32_t>& out) const;

  // The same without the cache: the reference the cache is tested against.
  void encode_word_uncached(std::string_view word, std::vector<std::int32_t>& out) const;

  // Token of `id`, or nullptr when the vocabulary has no such id.
  const std::string* token(std::int32_t id) const;
  // Id of `token`, or -1.
  std::int32_t id(std::string_view token) const;

  const Vocab& vocab() const { return vocab_; }
  const BpeOptions& options() const { return options_; }
  std::size_t merge_count() const { return merges_.size(); }

 private:
  struct Merge {
    std::int32_t rank;
    std::int32_t new_id;
  };
  static std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
           static_cast<std::uint32_t>(b);
  }
  struct Symbol {
    std::int32_t id;
    std::int32_t prev;
    std::int32_t next;
    bool alive;
  };
  // Symbols of a word before any merge (model.rs merge_word).
  void initial_symbols(std::string_view word, std::vector<Symbol>& sym) const;
  void add_symbol(std::vector<Symbol>& sym, std::int32_t id) const;
  void merge_all(std::vector<Symbol>& sym, std::vector<std::int32_t>& out) const;

  Vocab vocab_;
  BpeOptions options_;
  std::vector<std::string> tokens_;                  // [max id + 1], "" for holes
  std::vector<bool> has_token_;                      // [max id + 1]
  std::unordered_map<std::uint64_t, Merge> merges_;  // (left id, right id) -> merge
  std::int32_t byte_ids_[256];                       // byte-level symbol of each byte, -1 if none
  std::int32_t fallback_ids_[256];                   // "<0xNN>" token of each byte, -1 if none
  std::int32_t unk_id_ = -1;

  // Word -> ids. Bounded; guarded because encode() is const and may run on several threads.
  static constexpr std::size_t kCacheCapacity = 1 << 17;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>, StringViewHash, std::equal_to<>> cache_;
};

}  // namespace bentov
