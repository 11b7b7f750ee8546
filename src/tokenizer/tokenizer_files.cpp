#include "bentov/tokenizer/tokenizer_files.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "bentov/error.h"
#include "bentov/io/json_file.h"
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

std::unordered_map<std::string, std::int32_t> read_vocab(const json& v, const fs::path& file) {
  if (!v.is_object()) bad_field(file, "vocab", "an object of token -> id");
  std::unordered_map<std::string, std::int32_t> vocab;
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

// Normalizer: null, {"type": "NFC"}, or a Sequence of at most one such.
Normalization read_normalizer(const json* n, const fs::path& file, int depth = 0) {
  if (n == nullptr) return Normalization::kNone;
  check_depth(depth, file, "normalizer");
  const std::string type = get_string(*n, "type", file);
  if (type == "Sequence") {
    const json* list = member(*n, "normalizers");
    if (list == nullptr || !list->is_array()) bad_field(file, "normalizer.normalizers", "an array");
    Normalization result = Normalization::kNone;
    for (const auto& sub : *list) {
      const Normalization one = read_normalizer(&sub, file, depth + 1);
      if (one != Normalization::kNone && result != Normalization::kNone && one != result) {
        throw UnsupportedError(file.string() + ": a sequence of several normalizers is not supported",
                               "bentov handles one Unicode normal form");
      }
      if (one != Normalization::kNone) result = one;
    }
    return result;
  }
  return parse_normalization(type);
}

void read_pre_tokenizer(const json* p, const fs::path& file, TokenizerSpec& spec, int depth = 0) {
  check_depth(depth, file, "pre_tokenizer");
  if (p == nullptr) {
    throw UnsupportedError(file.string() + ": a tokenizer without a pre-tokenizer is not supported",
                           "bentov handles byte-level BPE (GPT-2 style) tokenizers");
  }
  const std::string type = get_string(*p, "type", file);
  if (type == "Sequence") {
    const json* list = member(*p, "pretokenizers");
    if (list == nullptr || !list->is_array() || list->size() != 1) {
      throw UnsupportedError(file.string() + ": this pre-tokenizer sequence is not supported",
                             "bentov handles one ByteLevel pre-tokenizer");
    }
    read_pre_tokenizer(&(*list)[0], file, spec, depth + 1);
    return;
  }
  if (type != "ByteLevel") {
    throw UnsupportedError(file.string() + ": pre-tokenizer '" + type + "' is not supported",
                           "bentov handles byte-level BPE (GPT-2 style) tokenizers");
  }
  spec.add_prefix_space = get_bool(*p, "add_prefix_space", true, file);
  spec.use_regex = get_bool(*p, "use_regex", true, file);
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

// Adds `content` as a special added token unless it is one already (what transformers does
// with the bos/eos/unk/pad tokens of tokenizer_config.json); returns its id.
std::int32_t ensure_special(TokenizerSpec& spec, const std::string& content) {
  for (const auto& a : spec.added) {
    if (a.content == content) return a.id;
  }
  AddedToken a;
  a.content = content;
  a.special = true;
  a.normalized = false;
  const auto it = spec.vocab.find(content);
  a.id = it != spec.vocab.end() ? it->second : next_free_id(spec);
  spec.added.push_back(a);
  return a.id;
}

void apply_config(const fs::path& dir, TokenizerSpec& spec, bool from_json) {
  const fs::path file = dir / "tokenizer_config.json";
  json cfg = json::object();
  if (fs::exists(file)) cfg = parse_json(file);
  if (!cfg.is_object()) bad_field(file, "(top level)", "an object");

  if (!from_json) {
    // transformers rebuilds the added vocabulary from added_tokens_decoder when present...
    if (const json* dec = member(cfg, "added_tokens_decoder")) {
      if (!dec->is_object()) bad_field(file, "added_tokens_decoder", "an object");
      for (const auto& [key, t] : dec->items()) {
        // Keys are decimal ids: "50256". std::stoi would take "-7", " 12" or "12abc".
        std::int64_t id = 0;
        const bool digits = !key.empty() && key.size() <= 9 &&
                            key.find_first_not_of("0123456789") == std::string::npos;
        if (digits) id = std::stoll(key);
        if (!digits || id > kMaxTokenId) bad_field(file, "added_tokens_decoder", "keyed by integer ids in [0, 2^24)");
        spec.added.push_back(read_added_token(t, file, static_cast<std::int32_t>(id)));
      }
    }
    // ...and adds the named special tokens. GPT2Tokenizer defaults bos/eos/unk to <|endoftext|>.
    for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"}) {
      std::optional<std::string> tok = config_token(cfg, key, file);
      if (!tok && key[0] != 'p' && !cfg.contains(key) && spec.vocab.count("<|endoftext|>")) {
        tok = "<|endoftext|>";
      }
      if (tok && !tok->empty()) ensure_special(spec, *tok);
    }
    if (const json* extra = member(cfg, "additional_special_tokens")) {
      if (!extra->is_array()) bad_field(file, "additional_special_tokens", "an array");
      for (const auto& e : *extra) {
        if (e.is_string()) ensure_special(spec, e.get<std::string>());
        else if (e.is_object()) ensure_special(spec, get_string(e, "content", file));
      }
    }
    spec.add_prefix_space = get_bool(cfg, "add_prefix_space", false, file);
  } else if (get_bool(cfg, "add_prefix_space", false, file)) {
    spec.add_prefix_space = true;
  }

  auto resolve = [&](const char* key) -> std::int32_t {
    const auto tok = config_token(cfg, key, file);
    if (!tok) {
      throw FormatError(file.string() + ": add_" + std::string(key) + " is set but " + key + " is not",
                        "name the token in tokenizer_config.json");
    }
    const std::int32_t added = [&] {
      for (const auto& a : spec.added) if (a.content == *tok) return a.id;
      return -1;
    }();
    if (added >= 0) return added;
    const auto it = spec.vocab.find(*tok);
    if (it == spec.vocab.end()) {
      throw FormatError(file.string() + ": " + key + " '" + *tok + "' is not in the vocabulary",
                        "the tokenizer files do not belong together");
    }
    return it->second;
  };
  // OPT: add_bos_token makes every text start with </s> (id 2).
  if (get_bool(cfg, "add_bos_token", false, file)) {
    const std::int32_t bos = resolve("bos_token");
    if (spec.prefix_ids.empty() || spec.prefix_ids.front() != bos) spec.prefix_ids.insert(spec.prefix_ids.begin(), bos);
  }
  if (get_bool(cfg, "add_eos_token", false, file)) {
    const std::int32_t eos = resolve("eos_token");
    if (spec.suffix_ids.empty() || spec.suffix_ids.back() != eos) spec.suffix_ids.push_back(eos);
  }
}

TokenizerSpec read_tokenizer_json(const fs::path& dir) {
  const fs::path file = dir / "tokenizer.json";
  const json doc = parse_json(file);
  if (!doc.is_object()) bad_field(file, "(top level)", "an object");
  TokenizerSpec spec;
  spec.source = "tokenizer.json";
  const json* model = member(doc, "model");
  if (model == nullptr) bad_field(file, "model", "an object");
  const std::string type = member(*model, "type") ? get_string(*model, "type", file) : "BPE";
  if (type != "BPE") {
    throw UnsupportedError(file.string() + ": model type '" + type + "' is not supported",
                           "bentov handles byte-level BPE tokenizers (GPT-2, GPT-NeoX, OPT)");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const json* v = member(*model, key);
    if (v != nullptr && (!v->is_string() || !v->get<std::string>().empty())) {
      throw UnsupportedError(file.string() + ": BPE with a " + key + " is not supported",
                             "bentov handles byte-level BPE tokenizers (GPT-2, GPT-NeoX, OPT)");
    }
  }
  if (get_bool(*model, "byte_fallback", false, file)) {
    throw UnsupportedError(file.string() + ": BPE with byte_fallback is not supported",
                           "bentov handles byte-level BPE tokenizers (GPT-2, GPT-NeoX, OPT)");
  }
  const json* vocab = member(*model, "vocab");
  if (vocab == nullptr) bad_field(file, "model.vocab", "an object of token -> id");
  spec.vocab = read_vocab(*vocab, file);
  const json* merges = member(*model, "merges");
  if (merges == nullptr) bad_field(file, "model.merges", "an array");
  spec.merges = read_json_merges(*merges, file);
  spec.ignore_merges = get_bool(*model, "ignore_merges", false, file);
  spec.normalization = read_normalizer(member(doc, "normalizer"), file);
  read_pre_tokenizer(member(doc, "pre_tokenizer"), file, spec);
  read_post_processor(member(doc, "post_processor"), file, spec);
  if (const json* added = member(doc, "added_tokens")) {
    if (!added->is_array()) bad_field(file, "added_tokens", "an array");
    for (const auto& t : *added) {
      const json* id = member(t, "id");
      if (id == nullptr) bad_field(file, "added_tokens[].id", "an integer id");
      spec.added.push_back(read_added_token(t, file, to_id(*id, file, "added_tokens[].id")));
    }
  }
  apply_config(dir, spec, /*from_json=*/true);
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
  apply_config(dir, spec, /*from_json=*/false);
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
