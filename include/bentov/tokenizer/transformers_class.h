// What transformers 5.17's AutoTokenizer makes of a tokenizer folder, beyond tokenizer.json.
// AutoTokenizer picks a class (tokenizer_config.json's tokenizer_class, checked against the
// class registered for config.json's model_type: models/auto/tokenization_auto.py
// from_pretrained). The generic class (TokenizersBackend, alias PreTrainedTokenizerFast) runs
// tokenizer.json as it is. Model-specific classes that define __init__ (LlamaTokenizer,
// Qwen2Tokenizer, GPT2Tokenizer, ...) rebuild the pipeline in it: they keep only the vocabulary,
// the merges and the post-processor of tokenizer.json and put their own normalizer,
// pre-tokenizer, decoder and BPE options in place (models/*/tokenization_*.py). bentov
// reproduces that as data: each modelled class is a set of tokenizer.json components that
// replace the file's. A class that rebuilds its pipeline but is not modelled here is refused.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace bentov {

// The class AutoTokenizer instantiates, without a "Fast" suffix ("TokenizersBackend" for the
// generic one). `config` is tokenizer_config.json (an object, maybe empty); `dir` may hold
// config.json, whose model_type takes part in the choice.
std::string auto_tokenizer_class(const nlohmann::json& config, const std::filesystem::path& dir);

// The pipeline a model-specific class builds in its __init__.
struct ClassPipeline {
  nlohmann::json normalizer;     // null: none
  nlohmann::json pre_tokenizer;  // null: none
  nlohmann::json decoder;
  nlohmann::json model_options;  // BPE fields replacing the file's (byte_fallback, unk_token...)
  // The class's default special tokens (bos_token, eos_token, unk_token, pad_token -> content
  // or null), which tokenizer_config.json's own entries override.
  nlohmann::json special_defaults;
  // The class calls update_post_processor() after __init__ (GPTNeoXTokenizer): the
  // post-processor becomes the bos/eos template, and add_bos/add_eos are dropped when a
  // tokenizer.json exists (tokenization_utils_base.py _from_pretrained).
  bool rebuilds_post_processor = false;
};

// The pipeline of `cls` for tokenizer_config.json `config`, or nullopt for the generic class.
// Throws UnsupportedError for a class that rebuilds its pipeline and is not modelled.
std::optional<ClassPipeline> class_pipeline(const std::string& cls, const nlohmann::json& config,
                                            const std::string& where);

}  // namespace bentov
