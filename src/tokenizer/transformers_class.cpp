#include "bentov/tokenizer/transformers_class.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <string_view>

#include "bentov/error.h"

namespace bentov {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// TOKENIZER_MAPPING_NAMES of models/auto/tokenization_auto.py for the decoder families, as
// resolved without mistral_common installed ("TokenizersBackend" for Mistral's types).
struct Registered {
  std::string_view model_type;
  std::string_view tokenizer_class;
};
constexpr std::array kRegistered{
    Registered{"gpt2", "GPT2Tokenizer"},          Registered{"gpt_neo", "GPT2Tokenizer"},
    Registered{"gptj", "GPT2Tokenizer"},          Registered{"opt", "GPT2Tokenizer"},
    Registered{"phi", "GPT2Tokenizer"},           Registered{"codegen", "GPT2Tokenizer"},
    Registered{"starcoder2", "GPT2Tokenizer"},    Registered{"gpt_neox", "GPTNeoXTokenizer"},
    Registered{"olmo", "GPTNeoXTokenizer"},       Registered{"olmoe", "GPTNeoXTokenizer"},
    Registered{"gpt_bigcode", "TokenizersBackend"}, Registered{"stablelm", "TokenizersBackend"},
    Registered{"olmo2", "TokenizersBackend"},     Registered{"mistral", "TokenizersBackend"},
    Registered{"mixtral", "TokenizersBackend"},   Registered{"ministral", "TokenizersBackend"},
    Registered{"qwen2", "Qwen2Tokenizer"},        Registered{"qwen2_moe", "Qwen2Tokenizer"},
    Registered{"qwen3", "Qwen2Tokenizer"},        Registered{"qwen3_moe", "Qwen2Tokenizer"},
    Registered{"gemma", "GemmaTokenizer"},        Registered{"gemma2", "GemmaTokenizer"},
    Registered{"gemma3", "GemmaTokenizer"},       Registered{"gemma3_text", "GemmaTokenizer"},
    Registered{"code_llama", "CodeLlamaTokenizer"},
};

// MODELS_WITH_INCORRECT_HUB_TOKENIZER_CLASS (the decoder families among them).
constexpr std::array<std::string_view, 6> kIncorrectHubClass{"qwen2", "phi3", "deepseek_v2",
                                                             "deepseek_v3", "internlm2", "nemotron"};

// Classes of transformers 5.17 that subclass TokenizersBackend with an __init__ of their own
// and are not modelled below: their pipeline differs from tokenizer.json in ways bentov does
// not reproduce.
constexpr std::array<std::string_view, 40> kUnmodelled{
    "AlbertTokenizer", "BarthezTokenizer", "BertTokenizer", "BigBirdTokenizer", "BlenderbotTokenizer",
    "CamembertTokenizer", "CLIPTokenizer", "CodeLlamaTokenizer", "CohereTokenizer", "DebertaTokenizer",
    "DebertaV2Tokenizer", "FunnelTokenizer", "HerbertTokenizer", "LasrTokenizer", "LayoutLMv2Tokenizer",
    "LayoutLMv3Tokenizer", "LayoutXLMTokenizer", "LukeTokenizer", "MarkupLMTokenizer", "MBartTokenizer",
    "MBart50Tokenizer", "MLukeTokenizer", "MPNetTokenizer", "NllbTokenizer", "NougatTokenizer",
    "OpenAIGPTTokenizer", "PegasusTokenizer", "ReformerTokenizer", "RemBertTokenizer", "RobertaTokenizer",
    "SeamlessM4TTokenizer", "Siglip2Tokenizer", "SplinterTokenizer", "T5Tokenizer", "Tipsv2Tokenizer",
    "UdopTokenizer", "WhisperTokenizer", "XGLMTokenizer", "XLMRobertaTokenizer", "XLNetTokenizer",
};

std::string strip_fast(std::string name) {
  if (name == "PreTrainedTokenizerFast" || name == "PythonBackend") return "TokenizersBackend";
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Fast") == 0) name.resize(name.size() - 4);
  return name;
}

std::string model_type_of(const fs::path& dir) {
  std::ifstream in(dir / "config.json", std::ios::binary);
  if (!in) return {};
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const json cfg = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!cfg.is_object() || !cfg.contains("model_type") || !cfg["model_type"].is_string()) return {};
  return cfg["model_type"].get<std::string>();
}

bool config_bool(const json& config, const char* key, bool fallback) {
  const auto it = config.find(key);
  return it != config.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

const json kByteLevelDecoder = {{"type", "ByteLevel"}};

// models/llama/tokenization_llama.py LlamaTokenizer.__init__: no normalizer, Metaspace with
// _get_prepend_scheme(add_prefix_space (default True), legacy) and split=false, BPE with
// fuse_unk and byte_fallback but no unk token.
//
// Where this differs from tokenizers.Tokenizer.from_file: Llama 2's tokenizer.json normalizes
// with Prepend("▁") + Replace(" ", "▁") and has no pre-tokenizer. Both act on each piece
// between added tokens and agree on most text, but Prepend adds its "▁" before a leading
// space too while Metaspace does not prepend before an existing one, so they part on every
// piece that starts with a space: a text with leading spaces (" Hello": the file gives
// "▁▁Hello", the class "▁Hello"), a blank text (" ": ids 259 vs 28705 in the shared files), and
// the text after a special token written inside it ("a <s> b", "Hello</s> world"). The empty
// text gives [<s>] either way. AutoTokenizer is the contract, so the class's pipeline is used.
ClassPipeline llama(const json& config) {
  const bool add_prefix_space = config_bool(config, "add_prefix_space", true);
  const bool legacy = config_bool(config, "legacy", false);
  const char* scheme = !add_prefix_space ? "never" : legacy ? "always" : "first";
  ClassPipeline p;
  p.pre_tokenizer = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", scheme}, {"split", false}};
  json steps = json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                            {{"type", "ByteFallback"}},
                            {{"type", "Fuse"}}});
  if (add_prefix_space) steps.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  p.decoder = {{"type", "Sequence"}, {"decoders", steps}};
  p.model_options = {{"fuse_unk", true}, {"byte_fallback", true}, {"unk_token", nullptr},
                     {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                     {"ignore_merges", false}};
  p.special_defaults = {{"unk_token", "<unk>"}, {"bos_token", "<s>"}, {"eos_token", "</s>"}};
  return p;
}

// models/qwen2/tokenization_qwen2.py Qwen2Tokenizer.__init__ (Qwen3_5Tokenizer is the same).
ClassPipeline qwen2(const json& config) {
  ClassPipeline p;
  p.normalizer = {{"type", "NFC"}};
  p.pre_tokenizer = {
      {"type", "Sequence"},
      {"pretokenizers",
       json::array({{{"type", "Split"},
                     {"pattern",
                      {{"Regex",
                        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
                        "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
                     {"behavior", "Isolated"},
                     {"invert", false}},
                    {{"type", "ByteLevel"}, {"add_prefix_space", config_bool(config, "add_prefix_space", false)},
                     {"use_regex", false}}})}};
  p.decoder = kByteLevelDecoder;
  p.model_options = {{"fuse_unk", false}, {"byte_fallback", false}, {"unk_token", nullptr},
                     {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"ignore_merges", false}};
  p.special_defaults = {{"unk_token", "<|endoftext|>"}, {"bos_token", nullptr}, {"eos_token", "<|endoftext|>"},
                        {"pad_token", "<|endoftext|>"}};
  return p;
}

// models/gpt2/tokenization_gpt2.py (and, with NFC and its own post-processor rebuild,
// models/gpt_neox/tokenization_gpt_neox.py).
ClassPipeline gpt2(const json& config, bool neox) {
  ClassPipeline p;
  if (neox) p.normalizer = {{"type", "NFC"}};
  p.pre_tokenizer = {{"type", "ByteLevel"}, {"add_prefix_space", config_bool(config, "add_prefix_space", false)},
                     {"use_regex", true}};
  p.decoder = kByteLevelDecoder;
  p.model_options = {{"fuse_unk", false}, {"byte_fallback", false}, {"unk_token", nullptr},
                     {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"ignore_merges", false}};
  p.special_defaults = {{"unk_token", "<|endoftext|>"}, {"bos_token", "<|endoftext|>"}, {"eos_token", "<|endoftext|>"}};
  if (neox) p.special_defaults["pad_token"] = "<|padding|>";
  p.rebuilds_post_processor = neox;
  return p;
}

// models/gemma/tokenization_gemma.py GemmaTokenizer.__init__.
ClassPipeline gemma() {
  ClassPipeline p;
  p.normalizer = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
  p.pre_tokenizer = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"},
                     {"invert", false}};
  p.decoder = {{"type", "Sequence"},
               {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                                         {{"type", "ByteFallback"}},
                                         {{"type", "Fuse"}}})}};
  p.model_options = {{"fuse_unk", true}, {"byte_fallback", true}, {"unk_token", "<unk>"},
                     {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                     {"ignore_merges", false}};
  p.special_defaults = {{"unk_token", "<unk>"}, {"bos_token", "<bos>"}, {"eos_token", "<eos>"},
                        {"pad_token", "<pad>"}, {"mask_token", "<mask>"}};
  return p;
}

}  // namespace

std::string auto_tokenizer_class(const json& config, const fs::path& dir) {
  std::string hub;
  if (const auto it = config.find("tokenizer_class"); it != config.end() && it->is_string()) {
    hub = strip_fast(it->get<std::string>());
  }
  const std::string model_type = model_type_of(dir);
  std::string registered;
  for (const auto& r : kRegistered) {
    if (r.model_type == model_type) registered = r.tokenizer_class;
  }
  // tokenization_auto.py: a hub class other than the registered one yields to TokenizersBackend
  // when the registered class is generic, and to the registered class for the model types
  // whose hub configs name a wrong class.
  if (!hub.empty() && !registered.empty() && hub != registered) {
    if (registered == "TokenizersBackend") return registered;
    const bool wrong_hub = std::find(kIncorrectHubClass.begin(), kIncorrectHubClass.end(), model_type) !=
                           kIncorrectHubClass.end();
    return wrong_hub ? registered : hub;
  }
  if (!hub.empty()) return hub;
  if (!registered.empty()) return registered;
  return "TokenizersBackend";
}

std::optional<ClassPipeline> class_pipeline(const std::string& cls, const json& config, const std::string& where) {
  if (cls == "LlamaTokenizer") return llama(config);
  if (cls == "Qwen2Tokenizer" || cls == "Qwen3_5Tokenizer") return qwen2(config);
  if (cls == "GPT2Tokenizer" || cls == "CodeGenTokenizer") return gpt2(config, /*neox=*/false);
  if (cls == "GPTNeoXTokenizer") return gpt2(config, /*neox=*/true);
  if (cls == "GemmaTokenizer") return gemma();
  if (std::find(kUnmodelled.begin(), kUnmodelled.end(), cls) != kUnmodelled.end()) {
    throw UnsupportedError(where + ": tokenizer class '" + cls + "' is not supported",
                           "transformers rebuilds this class's pipeline in code bentov does not reproduce; "
                           "models with LlamaTokenizer, Qwen2Tokenizer, GPT2Tokenizer, GPTNeoXTokenizer, "
                           "GemmaTokenizer or a plain tokenizer.json are supported");
  }
  return std::nullopt;  // TokenizersBackend, and classes transformers does not know (it falls back to it)
}

}  // namespace bentov
