// Fuzzes the tokenizer loaders. The input is split at "\n====\n" lines: when its first part
// starts with '{' and has a "model" key it is tokenizer.json (second part: tokenizer_config.json);
// otherwise the parts are vocab.json, merges.txt and tokenizer_config.json. A tokenizer that
// loads then encodes a few texts (added tokens, specials, bytes outside ASCII) and the last part.
#include <cstddef>
#include <cstdint>
#include <string>

#include "bentov/error.h"
#include "bentov/tokenizer/tokenizer.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace bf = bentov::fuzz;
  if (size > (1u << 20)) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto parts = bf::split_parts(in);
  bf::clear_scratch();
  const auto& dir = bf::scratch_dir();
  const bool is_json = !parts[0].empty() && parts[0][0] == '{' &&
                       parts[0].find("\"model\"") != std::string_view::npos;
  if (is_json) {
    bf::write_file(dir / "tokenizer.json", parts[0]);
    if (parts.size() > 1) bf::write_file(dir / "tokenizer_config.json", parts[1]);
  } else {
    bf::write_file(dir / "vocab.json", parts[0]);
    if (parts.size() > 1) bf::write_file(dir / "merges.txt", parts[1]);
    if (parts.size() > 2) bf::write_file(dir / "tokenizer_config.json", parts[2]);
  }
  try {
    const auto tok = bentov::Tokenizer::load(dir);
    for (std::string_view text : {std::string_view(""), std::string_view("Hello world, it's 2024!"),
                                  std::string_view("<|endoftext|> a</s>b  \n\n caf\xc3\xa9 \xe2\x80\x8d"),
                                  parts.back()}) {
      try {
        const auto ids = tok.encode(text);
        for (const auto id : ids) (void)tok.token_text(id);
        (void)tok.decode(ids);
      } catch (const bentov::Error&) {
      }
    }
    (void)tok.vocab_size();
    (void)tok.kind();
  } catch (const bentov::Error&) {
  }
  return 0;
}
