// The normalizer of tokenizer.json as a list of steps applied in order (tokenizers'
// normalizers/{unicode,prepend,replace,strip,utils}.rs): NFC / NFD / NFKC / NFKD, Prepend,
// Replace (a String or Regex pattern), Strip, Lowercase, and Sequence, which flattens into the
// list. Any other type is refused with an UnsupportedError naming it. bentov needs the
// normalized text only, not the alignments tokenizers keeps beside it.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bentov/tokenizer/normalize.h"

namespace bentov {

class Regex;

class Normalizer {
 public:
  // From tokenizer.json's "normalizer" (nullptr or JSON null: no normalizer). `where` (the
  // file) prefixes error messages.
  static Normalizer from_json(const nlohmann::json* spec, const std::string& where);
  // A normalizer of one Unicode normal form (or none).
  static Normalizer unicode(Normalization form);

  // `text` (valid UTF-8) normalized into `out`.
  void apply(std::string_view text, std::string& out) const;
  bool empty() const { return steps_.empty(); }
  // "NFC", "Prepend+Replace", ... ("" for none), for Tokenizer::kind().
  std::string describe() const;

  struct Step;

 private:
  std::vector<std::shared_ptr<const Step>> steps_;
};

}  // namespace bentov
