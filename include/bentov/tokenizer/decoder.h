// The decoder of tokenizer.json: tokens -> text, as a chain of steps over the list of token
// strings (tokenizers' decoders/{byte_level,metaspace,byte_fallback,fuse,strip,sequence}.rs
// and normalizers/replace.rs as a decoder): ByteLevel (alphabet -> bytes -> UTF-8, lossy),
// Metaspace (replacement -> ' ', the first token's dropped), Replace, ByteFallback ("<0xNN>"
// runs -> their UTF-8, one U+FFFD per byte when invalid), Fuse (join), Strip, and Sequence.
// Other types are refused with an UnsupportedError naming them.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace bentov {

class Decoder {
 public:
  // From tokenizer.json's "decoder" (nullptr / null: tokens are concatenated).
  static Decoder from_json(const nlohmann::json* spec, const std::string& where);

  // decode_chain of every step, then the pieces joined (tokenizers' Decoder::decode).
  std::string decode(std::vector<std::string> tokens) const;
  bool byte_level() const { return byte_level_; }

  struct Step;

 private:
  std::vector<std::shared_ptr<const Step>> steps_;
  bool byte_level_ = false;
};

}  // namespace bentov
