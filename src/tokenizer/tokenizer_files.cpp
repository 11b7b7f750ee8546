#include "bentov/tokenizer/tokenizer_files.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "bentov/error.h"
#include "bentov/io/json_file.h"
#include "bentov/tokenizer/transformers_class.h"
#include "bentov/tokenizer/utf8.h"

namespace bentov {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Real tokenizer files are a few MB (tokenizer.json of GPT-NeoX: 2.1 MB); the bound keeps a
// hostile or mistaken file (a FIFO, a 10 GB blob) from being slurped.
constexpr std::size_t kMaxTokenizerFileBytes = 256u << 20;
// Ids above this are refused: every id table is sized by the largest id (the largest real
// vocabularies have ~256k entries), so 2^31 - 1 would ask for a 2-billion-entry table.
constexpr std::int64_t kMaxTokenId = (1 << 24) - 1;
// Sequences of normalizers / pre-tokenizers / post-processors nest; real files nest once.
constexpr int kMaxNesting = 32;

std::string read_file(const fs::path& path) {
  return io::read_file_bytes(path, kMaxTokenizerFileBytes);
}

void check_depth(int depth, const fs::path& file, const char* what) {
  if (depth > kMaxNesting) {
    throw FormatError(file.string() + ": '" + what + "' is nested too deeply (more than " +
                          std::to_string(kMaxNesting) + " levels)",
                      "the tokenizer file is malformed; download it again");
  }
}

// True when `j` nests objects/arrays deeper than `limit` (the walk stops there).
bool nested_deeper_than(const json& j, int limit) {
  if (!j.is_structured()) return false;
  if (limit <= 0) return true;
  for (const auto& child : j) {
    if (nested_deeper_than(child, limit - 1)) return true;
  }
  return false;
}

json parse_json(const fs::path& path) {
  const std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw FormatError(path.string() + ": invalid JSON at byte " + std::to_string(e.byte),
                      "the tokenizer file is damaged; download it again");
  } catch (const json::exception&) {
    // A number too large for a double (1e999) is out_of_range.406, not a parse_error.
    throw FormatError(path.string() + ": invalid JSON (a number out of range)",
                      "the tokenizer file is damaged; download it again");
  }
}

[[noreturn]] void bad_field(const fs::path& file, const std::string& field, const std::string& want) {
  throw FormatError(file.string() + ": '" + field + "' must be " + want,
                    "the tokenizer file is malformed; download it again");
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

bool get_bool(const json& obj, const char* key, bool fallback, const fs::path& file) {
  const json* v = member(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) bad_field(file, key, "true or false");
  return v->get<bool>();
}

std::string get_string(const json& obj, const char* key, const fs::path& file) {
  const json* v = member(obj, key);
  if (v == nullptr || !v->is_string()) bad_field(file, key, "a string");
  return v->get<std::string>();
}

std::int32_t to_id(const json& v, const fs::path& file, const std::string& what) {
  if (!v.is_number_integer()) bad_field(file, what, "an integer id");
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxTokenId)) {
    bad_field(file, what, "an id in [0, 2^24)");
  }
  const auto id = v.get<std::int64_t>();
  if (id < 0 || id > kMaxTokenId) bad_field(file, what, "an id in [0, 2^24)");
  return static_cast<std::int32_t>(id);
}

void check_utf8(const std::string& s, const fs::path& file, const std::string& what) {
  if (utf8::find_invalid(s)) bad_field(file, what, "valid UTF-8");
}

Vocab read_vocab(const json& v, const fs::path& file) {
  if (!v.is_object()) bad_field(file, "vocab", "an object of token -> id");
  Vocab vocab;
  vocab.reserve(v.size());
  for (const auto& [tok, id] : v.items()) vocab.emplace(tok, to_id(id, file, "vocab[" + tok + "]"));
  return vocab;
}

// One merge written "left right" (merges.txt and older tokenizer.json) or ["left", "right"].
std::pair<std::string, std::string> split_merge(const std::string& line, const fs::path& file,
                                                std::size_t number) {
  const auto space = line.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 >= line.size() ||
      line.find(' ', space + 1) != std::string::npos) {
    throw FormatError(file.string() + ": merge " + std::to_string(number) + " ('" + line +
                          "') is not two tokens separated by one space",
                      "the merges file is malformed; download it again");
  }
  return {line.substr(0, space), line.substr(space + 1)};
}

std::vector<std::pair<std::string, std::string>> read_json_merges(const json& m, const fs::path& file) {
  if (!m.is_array()) bad_field(file, "model.merges", "an array");
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(m.size());
  std::size_t n = 0;
  for (const auto& e : m) {
    ++n;
    if (e.is_string()) {
      merges.push_back(split_merge(e.get<std::string>(), file, n));
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
    } else {
      bad_field(file, "model.merges[" + std::to_string(n - 1) + "]", "\"a b\" or [\"a\", \"b\"]");
    }
  }
  return merges;
}

std::vector<std::pair<std::string, std::string>> read_merges_txt(const fs::path& file) {
  const std::string text = read_file(file);
  check_utf8(text, file, "the file");
  std::vector<std::pair<std::string, std::string>> merges;
  std::istringstream in(text);
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line_no == 1 && line.rfind("#version", 0) == 0) continue;
    merges.push_back(split_merge(line, file, merges.size() + 1));
  }
  return merges;
}

// Resolves a special token named in a post-processor to its ids.
std::vector<std::int32_t> special_ids(const json& specials, const std::string& name, const fs::path& file) {
  const json* s = member(specials, name.c_str());
  const json* ids = s ? member(*s, "ids") : nullptr;
  if (ids == nullptr || !ids->is_array()) bad_field(file, "post_processor.special_tokens." + name + ".ids", "an array");
  std::vector<std::int32_t> out;
  for (const auto& v : *ids) out.push_back(to_id(v, file, "post_processor.special_tokens." + name));
  return out;
}

void read_post_processor(const json* p, const fs::path& file, TokenizerSpec& spec, int depth = 0) {
  if (p == nullptr) return;
  check_depth(depth, file, "post_processor");
  const std::string type = get_string(*p, "type", file);
  if (type == "ByteLevel") return;  // only adjusts offsets
  if (type == "Sequence") {
    const json* list = member(*p, "processors");
    if (list == nullptr || !list->is_array()) bad_field(file, "post_processor.processors", "an array");
    for (const auto& sub : *list) read_post_processor(&sub, file, spec, depth + 1);
    return;
  }
  if (type == "TemplateProcessing") {
    const json* single = member(*p, "single");
    if (single == nullptr || !single->is_array()) bad_field(file, "post_processor.single", "an array");
    const json* specials = member(*p, "special_tokens");
    bool seen_sequence = false;
    for (const auto& piece : *single) {
      if (const json* seq = member(piece, "Sequence")) {
        (void)seq;
        seen_sequence = true;
      } else if (const json* st = member(piece, "SpecialToken")) {
        const auto ids = special_ids(specials ? *specials : json::object(), get_string(*st, "id", file), file);
        auto& dst = seen_sequence ? spec.suffix_ids : spec.prefix_ids;
        dst.insert(dst.end(), ids.begin(), ids.end());
      } else {
        bad_field(file, "post_processor.single[]", "a Sequence or SpecialToken item");
      }
    }
    return;
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    for (const char* key : {"cls", "sep"}) {
      const json* v = member(*p, key);
      if (v == nullptr || !v->is_array() || v->size() != 2) bad_field(file, std::string("post_processor.") + key, "[token, id]");
      (key[0] == 'c' ? spec.prefix_ids : spec.suffix_ids).push_back(to_id((*v)[1], file, key));
    }
    return;
  }
  throw UnsupportedError(file.string() + ": post-processor '" + type + "' is not supported",
                         "bentov handles ByteLevel, TemplateProcessing and Roberta/Bert processors");
}

AddedToken read_added_token(const json& t, const fs::path& file, std::int32_t id) {
  AddedToken a;
  a.id = id;
  a.content = get_string(t, "content", file);
  check_utf8(a.content, file, "added token content");
  a.special = get_bool(t, "special", false, file);
  a.normalized = get_bool(t, "normalized", !a.special, file);
  a.lstrip = get_bool(t, "lstrip", false, file);
  a.rstrip = get_bool(t, "rstrip", false, file);
  a.single_word = get_bool(t, "single_word", false, file);
  return a;
}

// A special token of tokenizer_config.json: "</s>" or {"content": "</s>", ...}.
std::optional<std::string> config_token(const json& cfg, const char* key, const fs::path& file) {
  const json* v = member(cfg, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_object()) return get_string(*v, "content", file);
  bad_field(file, key, "a string or an object with 'content'");
}

std::int32_t next_free_id(const TokenizerSpec& spec) {
  std::int32_t next = 0;
  for (const auto& [tok, id] : spec.vocab) next = std::max(next, id + 1);
  for (const auto& a : spec.added) next = std::max(next, a.id + 1);
  return next;
}

// The special tokens tokenizer_config.json names (a key present with null removes the class
// default), the class defaults filling the others.
std::vector<std::string> config_specials(const json& cfg, const json& defaults, const fs::path& file) {
  std::vector<std::string> out;
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    std::optional<std::string> tok;
    if (cfg.contains(key)) {
      tok = config_token(cfg, key, file);
    } else if (defaults.contains(key) && defaults[key].is_string()) {
      tok = defaults[key].get<std::string>();
    }
    if (tok && !tok->empty()) out.push_back(*tok);
  }
  for (const char* key : {"additional_special_tokens", "extra_special_tokens"}) {
    const json* extra = member(cfg, key);
    if (extra == nullptr || extra->is_object()) continue;  // a {name: token} map adds named tokens only
    if (!extra->is_array()) bad_field(file, key, "an array");
    for (const auto& e : *extra) {
      if (e.is_string()) out.push_back(e.get<std::string>());
      else if (e.is_object()) out.push_back(get_string(e, "content", file));
    }
  }
  return out;
}

// tokenizer_config.json's added_tokens_decoder ({"50256": {"content": ...}}).
std::vector<AddedToken> config_added_tokens(const json& cfg, const fs::path& file) {
  std::vector<AddedToken> out;
  const json* dec = member(cfg, "added_tokens_decoder");
  if (dec == nullptr) return out;
  if (!dec->is_object()) bad_field(file, "added_tokens_decoder", "an object");
  for (const auto& [key, t] : dec->items()) {
    // Keys are decimal ids: "50256". std::stoi would take "-7", " 12" or "12abc".
    std::int64_t id = 0;
    const bool digits = !key.empty() && key.size() <= 9 && key.find_first_not_of("0123456789") == std::string::npos;
    if (digits) id = std::stoll(key);
    if (!digits || id > kMaxTokenId) bad_field(file, "added_tokens_decoder", "keyed by integer ids in [0, 2^24)");
    out.push_back(read_added_token(t, file, static_cast<std::int32_t>(id)));
  }
  std::sort(out.begin(), out.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  return out;
}

void add_unless_present(TokenizerSpec& spec, const AddedToken& t) {
  for (const auto& a : spec.added) {
    if (a.content == t.content) return;
  }
  spec.added.push_back(t);
}

json read_config(const fs::path& dir) {
  const fs::path file = dir / "tokenizer_config.json";
  json cfg = json::object();
  if (fs::exists(file)) cfg = parse_json(file);
  if (!cfg.is_object()) bad_field(file, "(top level)", "an object");
  return cfg;
}

// The ids of `key` ("bos_token") for the bos/eos template of update_post_processor().
std::int32_t resolve_special(const TokenizerSpec& spec, const json& cfg, const json& defaults, const char* key,
                             const fs::path& file) {
  std::optional<std::string> tok = cfg.contains(key) ? config_token(cfg, key, file)
                                   : defaults.contains(key) && defaults[key].is_string()
                                       ? std::optional<std::string>(defaults[key].get<std::string>())
                                       : std::nullopt;
  if (!tok) {
    throw FormatError(file.string() + ": add_" + std::string(key) + " is set but " + key + " is not",
                      "name the token in tokenizer_config.json");
  }
  for (const auto& a : spec.added) {
    if (a.content == *tok) return a.id;
  }
  const auto it = spec.vocab.find(*tok);
  if (it == spec.vocab.end()) {
    throw FormatError(file.string() + ": " + key + " '" + *tok + "' is not in the vocabulary",
                      "the tokenizer files do not belong together");
  }
  return it->second;
}

// update_post_processor() of tokenization_utils_tokenizers.py: "<bos> $A <eos>" by the flags.
void template_from_flags(TokenizerSpec& spec, const json& cfg, const json& defaults, const fs::path& file) {
  spec.prefix_ids.clear();
  spec.suffix_ids.clear();
  if (get_bool(cfg, "add_bos_token", false, file)) spec.prefix_ids.push_back(resolve_special(spec, cfg, defaults, "bos_token", file));
  if (get_bool(cfg, "add_eos_token", false, file)) spec.suffix_ids.push_back(resolve_special(spec, cfg, defaults, "eos_token", file));
}

// Ids for special tokens that are neither added tokens nor in the vocabulary: after the
// largest id (tokenizers' AddedVocabulary::add_tokens).
void add_specials(TokenizerSpec& spec, const std::vector<std::string>& specials) {
  for (const std::string& content : specials) {
    bool present = false;
    for (const auto& a : spec.added) present = present || a.content == content;
    if (present) continue;
    AddedToken a;
    a.content = content;
    a.special = true;
    a.normalized = false;
    const auto it = spec.vocab.find(content);
    a.id = it != spec.vocab.end() ? it->second : next_free_id(spec);
    spec.added.push_back(a);
  }
}

BpeOptions read_bpe_options(const json& model, const fs::path& file) {
  BpeOptions o;
  o.byte_fallback = get_bool(model, "byte_fallback", false, file);
  o.fuse_unk = get_bool(model, "fuse_unk", false, file);
  o.ignore_merges = get_bool(model, "ignore_merges", false, file);
  if (const json* unk = member(model, "unk_token")) {
    if (!unk->is_string()) bad_field(file, "model.unk_token", "a string or null");
    o.unk_token = unk->get<std::string>();
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (const json* v = member(model, key)) {
      if (!v->is_string()) bad_field(file, std::string("model.") + key, "a string or null");
      (key[0] == 'c' ? o.continuing_subword_prefix : o.end_of_word_suffix) = v->get<std::string>();
    }
  }
  if (const json* dropout = member(model, "dropout")) {
    if (!dropout->is_number() || dropout->get<double>() != 0.0) {
      throw UnsupportedError(file.string() + ": BPE with dropout is not supported",
                             "dropout makes tokenization random; bentov reproduces deterministic BPE");
    }
  }
  return o;
}

TokenizerSpec read_tokenizer_json(const fs::path& dir) {
  const fs::path file = dir / "tokenizer.json";
  const json doc = parse_json(file);
  if (!doc.is_object()) bad_field(file, "(top level)", "an object");
  TokenizerSpec spec;
  spec.source = "tokenizer.json";
  spec.where = file.string();
  const json* model = member(doc, "model");
  if (model == nullptr) bad_field(file, "model", "an object");
  const std::string type = member(*model, "type") ? get_string(*model, "type", file) : "BPE";
  if (type != "BPE") {
    throw UnsupportedError(file.string() + ": model type '" + type + "' is not supported",
                           "bentov implements the BPE model of tokenizer.json");
  }
  const json* vocab = member(*model, "vocab");
  if (vocab == nullptr) bad_field(file, "model.vocab", "an object of token -> id");
  spec.vocab = read_vocab(*vocab, file);
  const json* merges = member(*model, "merges");
  if (merges == nullptr) bad_field(file, "model.merges", "an array");
  spec.merges = read_json_merges(*merges, file);

  const json cfg = read_config(dir);
  const fs::path cfg_file = dir / "tokenizer_config.json";
  spec.tokenizer_class = auto_tokenizer_class(cfg, dir);
  const std::optional<ClassPipeline> cls = class_pipeline(spec.tokenizer_class, cfg, cfg_file.string());

  // Components a class replaces are still checked for sane nesting: the file is hostile input.
  for (const char* key : {"normalizer", "pre_tokenizer", "decoder", "post_processor"}) {
    if (const json* c = member(doc, key); c != nullptr && nested_deeper_than(*c, 4 * kMaxNesting)) {
      check_depth(kMaxNesting + 1, file, key);
    }
  }
  json model_fields = *model;
  if (cls) {
    for (const auto& [k, v] : cls->model_options.items()) model_fields[k] = v;
  }
  spec.bpe = read_bpe_options(model_fields, file);
  auto component = [&](const char* key) { const json* c = member(doc, key); return c ? *c : json(); };
  spec.normalizer = cls ? cls->normalizer : component("normalizer");
  spec.pre_tokenizer = cls ? cls->pre_tokenizer : component("pre_tokenizer");
  spec.decoder = cls ? cls->decoder : component("decoder");
  read_post_processor(member(doc, "post_processor"), file, spec);

  // Added tokens: the file's; a model-specific class takes tokenizer_config.json's
  // added_tokens_decoder instead when there is one (tokenization_utils_base.py
  // _from_pretrained), the generic class adds those it lacks.
  std::vector<AddedToken> from_file;
  if (const json* added = member(doc, "added_tokens")) {
    if (!added->is_array()) bad_field(file, "added_tokens", "an array");
    for (const auto& t : *added) {
      const json* id = member(t, "id");
      if (id == nullptr) bad_field(file, "added_tokens[].id", "an integer id");
      from_file.push_back(read_added_token(t, file, to_id(*id, file, "added_tokens[].id")));
    }
  }
  const std::vector<AddedToken> from_config = config_added_tokens(cfg, cfg_file);
  if (cls && !from_config.empty()) {
    spec.added = from_config;
  } else {
    spec.added = from_file;
    for (const auto& t : from_config) add_unless_present(spec, t);
  }
  const json defaults = cls ? cls->special_defaults : json::object();
  add_specials(spec, config_specials(cfg, defaults, cfg_file));
  // With a tokenizer.json, add_bos_token / add_eos_token are dropped and its post-processor
  // stands, unless the class rebuilds it from the (then false) flags.
  if (cls && cls->rebuilds_post_processor) {
    spec.prefix_ids.clear();
    spec.suffix_ids.clear();
  }
  return spec;
}

TokenizerSpec read_vocab_merges(const fs::path& dir) {
  const fs::path vocab_file = dir / "vocab.json";
  const fs::path merges_file = dir / "merges.txt";
  if (!fs::exists(vocab_file)) {
    throw IoError("missing " + vocab_file.string(),
                  "a vocab.json + merges.txt tokenizer needs both files (or use tokenizer.json)");
  }
  if (!fs::exists(merges_file)) {
    throw IoError("missing " + merges_file.string(),
                  "a vocab.json + merges.txt tokenizer needs both files (or use tokenizer.json)");
  }
  TokenizerSpec spec;
  spec.source = "vocab.json+merges.txt";
  spec.vocab = read_vocab(parse_json(vocab_file), vocab_file);
  spec.merges = read_merges_txt(merges_file);
  spec.where = merges_file.string();
  // Without tokenizer.json the class builds everything from vocab.json + merges.txt (GPT-2's
  // byte-level pipeline for the BPE classes), and add_bos_token / add_eos_token shape the
  // post-processor (OPT: every text starts with </s>).
  const json cfg = read_config(dir);
  const fs::path cfg_file = dir / "tokenizer_config.json";
  spec.tokenizer_class = auto_tokenizer_class(cfg, dir);
  std::optional<ClassPipeline> cls = class_pipeline(spec.tokenizer_class, cfg, cfg_file.string());
  if (!cls || cls->pre_tokenizer.value("type", "") != "ByteLevel") cls = class_pipeline("GPT2Tokenizer", cfg, cfg_file.string());
  spec.bpe = read_bpe_options(cls->model_options, merges_file);
  spec.normalizer = cls->normalizer;
  spec.pre_tokenizer = cls->pre_tokenizer;
  spec.decoder = cls->decoder;
  spec.added = config_added_tokens(cfg, cfg_file);
  add_specials(spec, config_specials(cfg, cls->special_defaults, cfg_file));
  template_from_flags(spec, cfg, cls->special_defaults, cfg_file);
  return spec;
}

}  // namespace

bool has_tokenizer_files(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "tokenizer.json", ec) ||
         (fs::exists(dir / "vocab.json", ec) && fs::exists(dir / "merges.txt", ec));
}

TokenizerSpec read_tokenizer_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw IoError("tokenizer folder " + dir.string() + " does not exist",
                  "pass a model folder that holds tokenizer.json or vocab.json + merges.txt");
  }
  if (fs::exists(dir / "tokenizer.json", ec)) return read_tokenizer_json(dir);
  if (fs::exists(dir / "vocab.json", ec) || fs::exists(dir / "merges.txt", ec)) return read_vocab_merges(dir);
  throw IoError("no tokenizer files in " + dir.string(),
                "expected tokenizer.json, or vocab.json + merges.txt, beside config.json");
}

}  // namespace bentov
