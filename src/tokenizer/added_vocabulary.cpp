#include "bentov/tokenizer/added_vocabulary.h"

#include <algorithm>

#include "bentov/tokenizer/unicode_class.h"
#include "bentov/tokenizer/utf8.h"

namespace bentov {
namespace {

using unicode::is_white_space;
using unicode::is_word_char;

// Code point that ends `s` (valid UTF-8, non-empty).
char32_t last_char(std::string_view s) {
  std::size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return utf8::next(s, i);
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view pattern, std::int32_t token) {
  std::int32_t node = 0;
  for (const char ch : pattern) {
    const auto c = static_cast<unsigned char>(ch);
    auto& kids = nodes[static_cast<std::size_t>(node)].children;
    auto it = std::lower_bound(kids.begin(), kids.end(), c,
                               [](const auto& kv, unsigned char v) { return kv.first < v; });
    if (it != kids.end() && it->first == c) {
      node = it->second;
    } else {
      const auto child = static_cast<std::int32_t>(nodes.size());
      kids.insert(it, {c, child});
      nodes.emplace_back();
      node = child;
    }
  }
  // The first token with a given pattern keeps it.
  if (nodes[static_cast<std::size_t>(node)].token < 0) nodes[static_cast<std::size_t>(node)].token = token;
  starts[static_cast<unsigned char>(pattern[0])] = true;
}

std::pair<std::size_t, std::int32_t> AddedVocabulary::Trie::longest_at(std::string_view text,
                                                                       std::size_t pos) const {
  std::pair<std::size_t, std::int32_t> best{0, -1};
  std::int32_t node = 0;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto& kids = nodes[static_cast<std::size_t>(node)].children;
    auto it = std::lower_bound(kids.begin(), kids.end(), c,
                               [](const auto& kv, unsigned char v) { return kv.first < v; });
    if (it == kids.end() || it->first != c) break;
    node = it->second;
    if (nodes[static_cast<std::size_t>(node)].token >= 0) {
      best = {i + 1 - pos, nodes[static_cast<std::size_t>(node)].token};
    }
  }
  return best;
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer& normalizer)
    : tokens_(std::move(tokens)) {
  for (std::size_t k = 0; k < tokens_.size(); ++k) {
    const AddedToken& t = tokens_[k];
    if (t.content.empty()) continue;
    if (t.normalized) {
      std::string pattern;
      normalizer.apply(t.content, pattern);
      if (!pattern.empty()) normalized_.insert(pattern, static_cast<std::int32_t>(k));
    } else {
      raw_.insert(t.content, static_cast<std::int32_t>(k));
    }
  }
}

const AddedToken* AddedVocabulary::find(std::int32_t id) const {
  for (const auto& t : tokens_) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::int32_t AddedVocabulary::find(std::string_view content) const {
  for (const auto& t : tokens_) {
    if (t.content == content) return t.id;
  }
  return -1;
}

void AddedVocabulary::split_raw(std::string_view text, std::vector<Piece>& out) const {
  split(raw_, text, out);
}

void AddedVocabulary::split_normalized(std::string_view text, std::vector<Piece>& out) const {
  split(normalized_, text, out);
}

void AddedVocabulary::split(const Trie& trie, std::string_view text, std::vector<Piece>& out) const {
  if (trie.nodes.size() <= 1) {
    if (!text.empty()) out.push_back({text, -1});
    return;
  }
  std::size_t start_offset = 0;  // end of the last emitted piece
  std::size_t pos = 0;           // where the search resumes (the end of the last match)
  while (pos < text.size()) {
    if (!trie.starts[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [len, index] = trie.longest_at(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[static_cast<std::size_t>(index)];
    std::size_t start = pos, stop = pos + len;
    pos = stop;
    if (tok.single_word) {
      const bool start_space = start == 0 || !is_word_char(last_char(text.substr(0, start)));
      std::size_t after = stop;
      const bool stop_space = stop == text.size() || !is_word_char(utf8::next(text, after));
      if (!start_space || !stop_space) continue;  // discarded; the search still moves on
    }
    if (tok.lstrip) {
      std::size_t s = start;
      while (s > 0) {
        std::size_t b = s - 1;
        while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
        std::size_t tmp = b;
        if (!is_white_space(utf8::next(text, tmp))) break;
        s = b;
      }
      start = std::max(s, start_offset);
    }
    if (tok.rstrip) {
      while (stop < text.size()) {
        std::size_t tmp = stop;
        if (!is_white_space(utf8::next(text, tmp))) break;
        stop = tmp;
      }
    }
    if (start_offset < start) out.push_back({text.substr(start_offset, start - start_offset), -1});
    out.push_back({text.substr(start, stop - start), tok.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({text.substr(start_offset), -1});
}

}  // namespace bentov
