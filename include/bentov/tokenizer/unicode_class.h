// Character classes that tokenizers takes from Rust's char methods and regex crate, so that
// bentov's pre-tokenizers and added-token rules classify code points the same way
// (utf8proc supplies the general categories).
#pragma once

namespace bentov::unicode {

// char::is_whitespace: the White_Space property (PropList.txt).
bool is_white_space(char32_t c);
// regex's Unicode \w: Alphabetic, marks, decimal numbers, connector punctuation, Join_Control
// (approximated through general categories).
bool is_word_char(char32_t c);
// char::is_numeric: general categories Nd, Nl, No.
bool is_numeric(char32_t c);
// pre_tokenizers/punctuation.rs is_punc: ASCII punctuation or a P* general category.
bool is_punctuation(char32_t c);

}  // namespace bentov::unicode
