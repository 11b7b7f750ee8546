// The byte-level BPE model: a vocabulary (token -> id) and ranked merges, applied to one
// pre-tokenized word at a time the way tokenizers' models/bpe (word.rs merge_all) does: all
// adjacent pairs that have a merge sit in a min-heap keyed by (rank, position); the lowest is
// merged, stale entries are skipped, and the two new neighbour pairs are pushed. That is
// O(n log n) in the word length, so a 10,000-byte word is fast. Results are cached per word.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bentov {

// Hash for unordered maps keyed by std::string that are looked up with std::string_view.
struct StringViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class BpeModel {
 public:
  // `vocab`: tokens in the byte-level alphabet -> ids. `merges`: pairs in rank order (rank 0
  // first). Throws FormatError when a merge names a token, or yields a token, that is not in
  // the vocabulary (tokenizers refuses such files too: MergeTokenOutOfVocabulary).
  // `ignore_merges`: a word that is itself in the vocabulary is emitted whole (tokenizer.json
  // "ignore_merges", Llama-3 style); false for GPT-2, Pythia and OPT.
  BpeModel(std::unordered_map<std::string, std::int32_t> vocab,
           const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges = false,
           std::string source = "vocabulary");
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-tokenized word given as raw bytes (not yet byte-level mapped).
  void encode_word(std::string_view bytes, std::vector<std::int32_t>& out) const;

  // The same without the cache: the reference the cache is tested against.
  void encode_word_uncached(std::string_view bytes, std::vector<std::int32_t>& out) const;

  // Token (byte-level alphabet) of `id`, or nullptr when the vocabulary has no such id.
  const std::string* token(std::int32_t id) const;
  // Id of `token`, or -1.
  std::int32_t id(std::string_view token) const;

  const std::unordered_map<std::string, std::int32_t>& vocab() const { return vocab_; }
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

  std::unordered_map<std::string, std::int32_t> vocab_;
  std::vector<std::string> tokens_;                  // [max id + 1], "" for holes
  std::vector<bool> has_token_;                      // [max id + 1]
  std::unordered_map<std::uint64_t, Merge> merges_;  // (left id, right id) -> merge
  std::int32_t byte_ids_[256];                       // id of each single byte's token, -1 if none
  bool ignore_merges_ = false;

  // Word (raw bytes) -> ids. Bounded; guarded because encode() is const and may run on several
  // threads at once.
  static constexpr std::size_t kCacheCapacity = 1 << 17;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::int32_t>, StringViewHash, std::equal_to<>>
      cache_;
};

}  // namespace bentov
