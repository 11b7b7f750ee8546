// GPT-2's byte-level alphabet: every byte 0..255 is shown as one printable code point
// (bytes_to_unicode() of openai/gpt-2 encoder.py, and tokenizers' pre_tokenizers/byte_level.rs):
// printable Latin-1 bytes map to themselves, the other 68 to U+0100.. in byte order, so a space
// is 'Ġ' (U+0120) and a newline 'Ċ' (U+010A). BPE vocabularies are written in this alphabet.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bentov::byte_level {

// The code point that stands for byte `b`.
char32_t to_char(std::uint8_t b);

// The UTF-8 encoding of to_char(b), for all 256 bytes.
const std::array<std::string, 256>& char_table();

// `bytes` rewritten in the byte-level alphabet (one code point per input byte).
std::string encode(std::string_view bytes);

// The bytes a byte-level token stands for, or nullopt when one of its code points is not in
// the alphabet (tokenizers' ByteLevel decoder then keeps the token's own UTF-8 bytes).
std::optional<std::string> decode(std::string_view token);

}  // namespace bentov::byte_level
