// Reads a model folder's tokenizer files into one TokenizerSpec: tokenizer.json when present,
// else vocab.json + merges.txt; tokenizer_config.json is read in both cases (add_bos_token,
// add_eos_token, bos/eos/unk/pad tokens, add_prefix_space, added_tokens_decoder). The files
// are treated as hostile: every missing or mistyped field is a FormatError naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bentov/tokenizer/added_vocabulary.h"
#include "bentov/tokenizer/normalize.h"

namespace bentov {

struct TokenizerSpec {
  std::string source;                                      // "tokenizer.json" or "vocab.json+merges.txt"
  std::unordered_map<std::string, std::int32_t> vocab;     // byte-level token -> id
  std::vector<std::pair<std::string, std::string>> merges; // in rank order
  bool ignore_merges = false;
  Normalization normalization = Normalization::kNone;
  bool add_prefix_space = false;   // ByteLevel pre-tokenizer: prepend ' ' to each piece
  bool use_regex = true;           // ByteLevel pre-tokenizer: split with the GPT-2 regex
  std::vector<AddedToken> added;
  std::vector<std::int32_t> prefix_ids;  // post-processor: ids before the text (OPT's </s>)
  std::vector<std::int32_t> suffix_ids;  // post-processor: ids after the text
};

// True when `dir` holds tokenizer.json, or vocab.json and merges.txt.
bool has_tokenizer_files(const std::filesystem::path& dir);

// Throws IoError (missing/unreadable files), FormatError (malformed files) or UnsupportedError
// (a tokenizer that is not byte-level BPE).
TokenizerSpec read_tokenizer_files(const std::filesystem::path& dir);

}  // namespace bentov
