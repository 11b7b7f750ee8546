// UTF-8 helpers of the tokenizer layer: validation (bentov refuses invalid UTF-8 text, which
// Hugging Face's Python side cannot even hold in a str) and lossy repair of decoded bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bentov::utf8 {

// Byte offset of the first byte that does not start a well-formed UTF-8 sequence (overlongs,
// surrogates and code points above U+10FFFF are ill-formed), or nullopt when `s` is valid.
std::optional<std::size_t> find_invalid(std::string_view s);

// `bytes` with every maximal ill-formed subsequence replaced by U+FFFD, the rule of Rust's
// String::from_utf8_lossy that Hugging Face's byte-level decoder applies.
std::string repair_lossy(std::string_view bytes);

// Appends code point `cp` (<= 0x10FFFF) encoded as UTF-8.
void append(std::string& out, char32_t cp);

// Decodes the code point starting at `s[i]` of a valid UTF-8 string and advances `i`.
char32_t next(std::string_view s, std::size_t& i);

}  // namespace bentov::utf8
