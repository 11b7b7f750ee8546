// The regular expressions of tokenizer.json (Split pre-tokenizer and Replace normalizer /
// decoder patterns), written for Oniguruma, which Hugging Face tokenizers runs them with
// (tokenizers/src/utils/onig.rs). bentov runs them with PCRE2 (UTF + UCP + JIT) after
// translating the few classes whose Unicode meaning differs between the two engines:
//   \s  Oniguruma: the White_Space property          PCRE2 UCP: Z + \t\n\v\f\r (no U+0085)
//   \w  Oniguruma: Letter | Mark | Number | Pc       PCRE2 UCP: Letter | Number | '_'
// \S and \W become negated classes; inside a bracket they cannot be expressed and the pattern
// is refused. \p{L}, \p{N}, (?i:...), look-arounds and possessive quantifiers mean the same in
// both engines. Matches are enumerated as the onig crate's find_iter does: leftmost-first,
// an empty match right after the previous match is skipped and the search moves one character.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bentov {

struct Span {
  std::size_t begin;
  std::size_t end;
};

class Regex {
 public:
  // Throws UnsupportedError when the pattern does not compile or uses a construct bentov
  // cannot translate; `where` names the component for the message.
  Regex(std::string_view onig_pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends the matches in `text` (valid UTF-8), in order, non-overlapping.
  void find_all(std::string_view text, std::vector<Span>& out) const;

  // `literal` with every regex metacharacter escaped (tokenizers' String patterns).
  static std::string escape(std::string_view literal);

  // The PCRE2 pattern the Oniguruma one was translated to (for tests).
  const std::string& pcre2_pattern() const { return translated_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string translated_;
};

// Oniguruma pattern -> equivalent PCRE2 pattern (see the header comment); throws
// UnsupportedError naming `where` for \S or \W inside brackets and for class set operations.
std::string translate_onig_pattern(std::string_view pattern, const std::string& where);

}  // namespace bentov
