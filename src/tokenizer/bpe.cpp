#include "bentov/tokenizer/bpe.h"

#include <algorithm>

#include "bentov/error.h"
#include "bentov/tokenizer/byte_level.h"

namespace bentov {

BpeModel::BpeModel(std::unordered_map<std::string, std::int32_t> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges,
                   bool ignore_merges, std::string source)
    : vocab_(std::move(vocab)), ignore_merges_(ignore_merges) {
  std::int32_t max_id = -1;
  for (const auto& [tok, id] : vocab_) {
    if (id < 0) {
      throw FormatError(source + ": token '" + tok + "' has negative id " + std::to_string(id),
                        "vocabulary ids must be non-negative integers");
    }
    max_id = std::max(max_id, id);
  }
  tokens_.assign(static_cast<std::size_t>(max_id + 1), std::string());
  has_token_.assign(static_cast<std::size_t>(max_id + 1), false);
  for (const auto& [tok, id] : vocab_) {
    tokens_[static_cast<std::size_t>(id)] = tok;
    has_token_[static_cast<std::size_t>(id)] = true;
  }
  const auto& chars = byte_level::char_table();
  for (int b = 0; b < 256; ++b) byte_ids_[b] = id(chars[static_cast<std::size_t>(b)]);

  merges_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const std::int32_t ia = id(a), ib = id(b);
    const std::int32_t merged = id(a + b);
    const char* missing = ia < 0 ? "left" : ib < 0 ? "right" : merged < 0 ? "merged" : nullptr;
    if (missing != nullptr) {
      const std::string which = ia < 0 ? a : ib < 0 ? b : a + b;
      throw FormatError(source + ": merge " + std::to_string(rank + 1) + " ('" + a + " " + b +
                            "') names " + missing + " token '" + which +
                            "' that is not in the vocabulary",
                        "the merges and the vocabulary must come from the same tokenizer");
    }
    // The first (lowest-rank) occurrence of a pair wins, as in tokenizers' BPE builder.
    merges_.try_emplace(pair_key(ia, ib), Merge{static_cast<std::int32_t>(rank), merged});
  }
}

const std::string* BpeModel::token(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size() ||
      !has_token_[static_cast<std::size_t>(id)]) {
    return nullptr;
  }
  return &tokens_[static_cast<std::size_t>(id)];
}

std::int32_t BpeModel::id(std::string_view token) const {
  const auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? -1 : it->second;
}

void BpeModel::encode_word(std::string_view bytes, std::vector<std::int32_t>& out) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(bytes);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const std::size_t first = out.size();
  encode_word_uncached(bytes, out);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kCacheCapacity) cache_.clear();  // bounded memory on endless input
  cache_.emplace(std::string(bytes),
                 std::vector<std::int32_t>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
}

void BpeModel::encode_word_uncached(std::string_view bytes, std::vector<std::int32_t>& out) const {
  if (bytes.empty()) return;
  if (bytes.size() == 1) {
    const std::int32_t b = byte_ids_[static_cast<unsigned char>(bytes[0])];
    if (b >= 0) out.push_back(b);
    return;
  }
  if (ignore_merges_) {
    const std::int32_t whole = id(byte_level::encode(bytes));
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  // Symbols of the word as a doubly linked list over an array (word.rs `Symbol`). A byte whose
  // token is missing from the vocabulary is dropped, as tokenizers does without an unk token.
  struct Symbol {
    std::int32_t id;
    std::int32_t prev;
    std::int32_t next;
    bool alive;
  };
  std::vector<Symbol> sym;
  sym.reserve(bytes.size());
  for (const char c : bytes) {
    const std::int32_t b = byte_ids_[static_cast<unsigned char>(c)];
    if (b < 0) continue;
    const auto n = static_cast<std::int32_t>(sym.size());
    sym.push_back({b, n - 1, n + 1, true});
  }
  if (sym.empty()) return;
  sym.back().next = -1;

  // Min-heap on (rank, pos): tokenizers' `Merge` orders by rank, then by position.
  struct Candidate {
    std::int32_t rank;
    std::int32_t pos;
    std::int32_t new_id;
  };
  auto later = [](const Candidate& x, const Candidate& y) {
    return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos;
  };
  std::vector<Candidate> heap;
  heap.reserve(sym.size());
  auto push_pair = [&](std::int32_t pos) {
    const std::int32_t nxt = sym[static_cast<std::size_t>(pos)].next;
    if (nxt < 0) return;
    const auto it = merges_.find(pair_key(sym[static_cast<std::size_t>(pos)].id,
                                          sym[static_cast<std::size_t>(nxt)].id));
    if (it == merges_.end()) return;
    heap.push_back({it->second.rank, pos, it->second.new_id});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(sym.size()); ++i) push_pair(i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = sym[static_cast<std::size_t>(top.pos)];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = sym[static_cast<std::size_t>(left.next)];
    // Stale entry: the pair at this position changed since it was pushed.
    const auto it = merges_.find(pair_key(left.id, right.id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) sym[static_cast<std::size_t>(right.next)].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (std::int32_t i = 0; i >= 0; i = sym[static_cast<std::size_t>(i)].next) {
    out.push_back(sym[static_cast<std::size_t>(i)].id);
  }
}

}  // namespace bentov
