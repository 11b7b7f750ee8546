// Unicode normalizers of tokenizer.json ("normalizer": {"type": "NFC"} and friends), done by
// utf8proc. Pythia's GPT-NeoX-20B tokenizer applies NFC; GPT-2 and OPT apply none.
#pragma once

#include <string>
#include <string_view>

namespace bentov {

enum class Normalization { kNone, kNfc, kNfd, kNfkc, kNfkd };

// Parses a tokenizer.json normalizer type ("NFC", ...); throws UnsupportedError otherwise.
Normalization parse_normalization(std::string_view type);

// "NFC", "NFKD", ... or "" for kNone.
std::string_view normalization_name(Normalization n);

// Applies `n` to valid UTF-8 `text` into `out` (ASCII text is returned unchanged without
// calling utf8proc, since every normal form leaves ASCII alone).
void normalize(Normalization n, std::string_view text, std::string& out);

}  // namespace bentov
