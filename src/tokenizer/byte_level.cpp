#include "bentov/tokenizer/byte_level.h"

#include "bentov/tokenizer/utf8.h"

namespace bentov::byte_level {
namespace {

struct Tables {
  std::array<char32_t, 256> chars{};       // byte -> code point
  std::array<std::string, 256> utf8{};     // byte -> UTF-8 of that code point
  std::array<std::int16_t, 324> bytes{};   // code point (< 0x144) -> byte, -1 if none

  Tables() {
    bytes.fill(-1);
    // Printable ranges keep their value: '!'..'~', '¡'..'¬', '®'..'ÿ'.
    auto printable = [](int b) {
      return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    char32_t extra = 0x100;
    for (int b = 0; b < 256; ++b) {
      const char32_t c = printable(b) ? static_cast<char32_t>(b) : extra++;
      chars[b] = c;
      utf8::append(utf8[b], c);
      bytes[c] = static_cast<std::int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t to_char(std::uint8_t b) { return tables().chars[b]; }

const std::array<std::string, 256>& char_table() { return tables().utf8; }

std::string encode(std::string_view bytes) {
  const auto& t = tables().utf8;
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) out += t[static_cast<std::uint8_t>(c)];
  return out;
}

std::optional<std::string> decode(std::string_view token) {
  const auto& t = tables();
  std::string out;
  out.reserve(token.size());
  std::size_t i = 0;
  while (i < token.size()) {
    const char32_t cp = utf8::next(token, i);
    if (cp >= t.bytes.size() || t.bytes[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(t.bytes[cp])));
  }
  return out;
}

}  // namespace bentov::byte_level
