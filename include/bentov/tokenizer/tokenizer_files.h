// Reads a model folder's tokenizer files into one TokenizerSpec: tokenizer.json when present,
// else vocab.json + merges.txt; tokenizer_config.json is read in both cases (tokenizer_class,
// add_bos_token, add_eos_token, bos/eos/unk/pad tokens, add_prefix_space, legacy,
// added_tokens_decoder). The spec is what transformers 5.17's AutoTokenizer would run: the
// components of tokenizer.json, or those of the model-specific class that replaces them
// (transformers_class.h). The files are treated as hostile: every missing or mistyped field
// is a FormatError naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bentov/tokenizer/added_vocabulary.h"
#include "bentov/tokenizer/bpe.h"

namespace bentov {

struct TokenizerSpec {
  std::string source;           // "tokenizer.json" or "vocab.json+merges.txt"
  std::string where;            // the file, for error messages
  std::string tokenizer_class;  // the transformers class AutoTokenizer builds
  Vocab vocab;                  // token -> id
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  BpeOptions bpe;               // byte_level_input is decided by the pre-tokenizer
  nlohmann::json normalizer;    // tokenizer.json components (null: none)
  nlohmann::json pre_tokenizer;
  nlohmann::json decoder;
  std::vector<AddedToken> added;
  std::vector<std::int32_t> prefix_ids;  // post-processor: ids before the text (<s>, OPT's </s>)
  std::vector<std::int32_t> suffix_ids;  // post-processor: ids after the text
};

// True when `dir` holds tokenizer.json, or vocab.json and merges.txt.
bool has_tokenizer_files(const std::filesystem::path& dir);

// Throws IoError (missing/unreadable files), FormatError (malformed files) or UnsupportedError
// (a component or class bentov does not implement, named in the message).
TokenizerSpec read_tokenizer_files(const std::filesystem::path& dir);

}  // namespace bentov
