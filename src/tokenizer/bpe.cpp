#include "bentov/tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>

#include "bentov/error.h"
#include "bentov/tokenizer/byte_level.h"
#include "bentov/tokenizer/utf8.h"

namespace bentov {

BpeModel::BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options, std::string source)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
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
  for (int b = 0; b < 256; ++b) {
    byte_ids_[b] = id(chars[static_cast<std::size_t>(b)]);
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);  // model.rs: format!("<{b:#04X}>")
    fallback_ids_[b] = id(name);
  }
  if (options_.unk_token) {
    unk_id_ = id(*options_.unk_token);
    if (unk_id_ < 0) {
      throw FormatError(source + ": unk_token '" + *options_.unk_token + "' is not in the vocabulary",
                        "the tokenizer file is malformed; download it again");
    }
  }

  // model.rs BpeBuilder::build: the merged token is a + b without b's continuing prefix.
  const std::size_t prefix_len = options_.continuing_subword_prefix.size();
  merges_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const std::int32_t ia = id(a), ib = id(b);
    const std::string joined = a + (b.size() >= prefix_len ? b.substr(prefix_len) : std::string());
    const std::int32_t merged = id(joined);
    const char* missing = ia < 0 ? "left" : ib < 0 ? "right" : merged < 0 ? "merged" : nullptr;
    if (missing != nullptr) {
      const std::string which = ia < 0 ? a : ib < 0 ? b : joined;
      throw FormatError(source + ": merge " + std::to_string(rank + 1) + " ('" + a + " " + b +
                            "') names " + missing + " token '" + which +
                            "' that is not in the vocabulary",
                        "the merges and the vocabulary must come from the same tokenizer");
    }
    // The first (lowest-rank) occurrence of a pair wins.
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
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

void BpeModel::encode_word(std::string_view word, std::vector<std::int32_t>& out) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const std::size_t first = out.size();
  encode_word_uncached(word, out);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kCacheCapacity) cache_.clear();  // bounded memory on endless input
  cache_.emplace(std::string(word),
                 std::vector<std::int32_t>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
}

void BpeModel::add_symbol(std::vector<Symbol>& sym, std::int32_t id) const {
  const auto n = static_cast<std::int32_t>(sym.size());
  sym.push_back({id, n - 1, n + 1, true});
}

void BpeModel::initial_symbols(std::string_view word, std::vector<Symbol>& sym) const {
  const bool decorated = !options_.continuing_subword_prefix.empty() || !options_.end_of_word_suffix.empty();
  if (options_.byte_level_input && !decorated) {
    // A byte whose symbol is missing is dropped, as tokenizers does without an unk token.
    for (const char c : word) {
      const std::int32_t b = byte_ids_[static_cast<unsigned char>(c)];
      if (b >= 0) add_symbol(sym, b);
    }
    return;
  }
  std::string mapped;
  if (options_.byte_level_input) {
    mapped = byte_level::encode(word);
    word = mapped;
  }
  // model.rs merge_word, character by character.
  std::int32_t unk_pending = -1;
  std::string piece;
  std::size_t i = 0;
  while (i < word.size()) {
    const std::size_t begin = i;
    (void)utf8::next(word, i);
    const bool is_first = begin == 0, is_last = i >= word.size();
    std::string_view s = word.substr(begin, i - begin);
    if ((!is_first && !options_.continuing_subword_prefix.empty()) || (is_last && !options_.end_of_word_suffix.empty())) {
      piece.clear();
      if (!is_first) piece += options_.continuing_subword_prefix;
      piece.append(s);
      if (is_last) piece += options_.end_of_word_suffix;
      s = piece;
    }
    const std::int32_t known = id(s);
    if (known >= 0) {
      if (unk_pending >= 0) add_symbol(sym, unk_pending);
      unk_pending = -1;
      add_symbol(sym, known);
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (const char c : s) all = all && fallback_ids_[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        for (const char c : s) add_symbol(sym, fallback_ids_[static_cast<unsigned char>(c)]);
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (unk_pending >= 0 && !options_.fuse_unk) add_symbol(sym, unk_pending);
      unk_pending = unk_id_;
    }
  }
  if (unk_pending >= 0) add_symbol(sym, unk_pending);
}

void BpeModel::encode_word_uncached(std::string_view word, std::vector<std::int32_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    // model.rs tokenize_with_cache: the whole word, as the vocabulary spells it.
    const std::int32_t whole = options_.byte_level_input ? id(byte_level::encode(word)) : id(word);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  std::vector<Symbol> sym;
  sym.reserve(word.size());
  initial_symbols(word, sym);
  if (sym.empty()) return;
  sym.back().next = -1;
  merge_all(sym, out);
}

void BpeModel::merge_all(std::vector<Symbol>& sym, std::vector<std::int32_t>& out) const {
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
  // The initial pairs are heapified at once (O(n)); later ones are pushed one by one.
  for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(sym.size()); ++i) {
    const auto it = merges_.find(pair_key(sym[static_cast<std::size_t>(i)].id, sym[static_cast<std::size_t>(i) + 1].id));
    if (it != merges_.end()) heap.push_back({it->second.rank, i, it->second.new_id});
  }
  std::make_heap(heap.begin(), heap.end(), later);

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
