#include "bentov/tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "bentov/error.h"
#include "bentov/tokenizer/regex.h"
#include "bentov/tokenizer/unicode_class.h"
#include "bentov/tokenizer/utf8.h"

namespace bentov {
using nlohmann::json;

namespace {

constexpr int kMaxNesting = 32;

// The GPT-2 pattern of pre_tokenizers/byte_level.rs, in Oniguruma syntax (regex.h translates).
constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

enum class Kind { kSplit, kByteLevel, kMetaspace, kCharClass, kWhitespace };
enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
enum class Prepend { kAlways, kFirst, kNever };
enum class CharClass { kNumeric, kPunctuation, kWhiteSpace };

struct Match {
  std::size_t begin, end;
  bool is_match;
};

}  // namespace

struct PreTokenizer::Step {
  Kind kind = Kind::kSplit;
  std::string name;
  std::unique_ptr<Regex> regex;  // kSplit, kWhitespace, kByteLevel with use_regex
  Behavior behavior = Behavior::kIsolated;
  bool invert = false;
  CharClass char_class = CharClass::kNumeric;  // kCharClass
  bool add_prefix_space = false;               // kByteLevel
  std::string replacement;                     // kMetaspace (UTF-8 of one char)
  Prepend prepend = Prepend::kAlways;
  bool split = true;
};

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& field, const std::string& want) {
  throw FormatError(where + ": 'pre_tokenizer." + field + "' must be " + want,
                    "the tokenizer file is malformed; download it again");
}

const json* field(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string string_field(const json& j, const char* key, const std::string& where) {
  const json* v = field(j, key);
  if (v == nullptr || !v->is_string()) bad(where, key, "a string");
  return v->get<std::string>();
}

bool bool_field(const json& j, const char* key, bool fallback, const std::string& where) {
  const json* v = field(j, key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) bad(where, key, "true or false");
  return v->get<bool>();
}

Behavior parse_behavior(const json& j, const std::string& where, Behavior fallback) {
  const json* v = field(j, "behavior");
  if (v == nullptr) return fallback;
  const std::string b = v->is_string() ? v->get<std::string>() : "";
  if (b == "Removed") return Behavior::kRemoved;
  if (b == "Isolated") return Behavior::kIsolated;
  if (b == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return Behavior::kMergedWithNext;
  if (b == "Contiguous") return Behavior::kContiguous;
  bad(where, "behavior", "Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous");
}

// The tiling of `text` into matches and the stretches between them (tokenizer/pattern.rs).
void regex_matches(const Regex& re, std::string_view text, std::vector<Span>& spans, std::vector<Match>& out) {
  out.clear();
  if (text.empty()) return;
  spans.clear();
  re.find_all(text, spans);
  std::size_t prev = 0;
  for (const Span& s : spans) {
    if (prev != s.begin) out.push_back({prev, s.begin, false});
    out.push_back({s.begin, s.end, true});
    prev = s.end;
  }
  if (prev != text.size()) out.push_back({prev, text.size(), false});
}

bool in_class(CharClass k, char32_t c) {
  switch (k) {
    case CharClass::kNumeric: return unicode::is_numeric(c);
    case CharClass::kPunctuation: return unicode::is_punctuation(c);
    case CharClass::kWhiteSpace: return unicode::is_white_space(c);
  }
  return false;
}

// pattern.rs `impl Pattern for F: Fn(char) -> bool`: each matching char is its own match.
void char_matches(CharClass k, std::string_view text, std::vector<Match>& out) {
  out.clear();
  std::size_t last = 0, i = 0;
  while (i < text.size()) {
    const std::size_t b = i;
    const char32_t c = utf8::next(text, i);
    if (!in_class(k, c)) continue;
    if (last < b) out.push_back({last, b, false});
    out.push_back({b, i, true});
    last = i;
  }
  if (last < text.size()) out.push_back({last, text.size(), false});
}

// The tiling of `text` by \w+|[^\w\s]+ (Rust regex classes): runs of word chars and runs of
// other non-space chars are kept, runs of white space are marked to be removed.
void word_runs(std::string_view text, std::vector<Match>& out) {
  out.clear();
  int run_class = -1;  // 0 word, 1 other, 2 space
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t b = i;
    const char32_t c = utf8::next(text, i);
    const int k = unicode::is_word_char(c) ? 0 : unicode::is_white_space(c) ? 2 : 1;
    if (k == run_class) {
      out.back().end = i;
    } else {
      out.push_back({b, i, k == 2});  // Invert(re) + Removed: the spaces go
      run_class = k;
    }
  }
}

// normalizer.rs NormalizedString::split: matches -> kept pieces by behavior (empty dropped).
void apply_behavior(Behavior behavior, std::string_view text, bool at_start, std::vector<Match>& m,
                    std::vector<PreTokenScratch::Piece>& out) {
  struct Cut {
    std::size_t begin, end;
    bool remove;
  };
  std::vector<Cut> cuts;
  cuts.reserve(m.size());
  bool previous_match = false;
  switch (behavior) {
    case Behavior::kIsolated:
      for (const Match& x : m) cuts.push_back({x.begin, x.end, false});
      break;
    case Behavior::kRemoved:
      for (const Match& x : m) cuts.push_back({x.begin, x.end, x.is_match});
      break;
    case Behavior::kContiguous:
      for (const Match& x : m) {
        if (x.is_match == previous_match && !cuts.empty()) cuts.back().end = x.end;
        else cuts.push_back({x.begin, x.end, false});
        previous_match = x.is_match;
      }
      break;
    case Behavior::kMergedWithPrevious:
      for (const Match& x : m) {
        if (x.is_match && !previous_match && !cuts.empty()) cuts.back().end = x.end;
        else cuts.push_back({x.begin, x.end, false});
        previous_match = x.is_match;
      }
      break;
    case Behavior::kMergedWithNext:
      for (auto it = m.rbegin(); it != m.rend(); ++it) {
        if (it->is_match && !previous_match && !cuts.empty()) cuts.back().begin = it->begin;
        else cuts.push_back({it->begin, it->end, false});
        previous_match = it->is_match;
      }
      std::reverse(cuts.begin(), cuts.end());
      break;
  }
  for (const Cut& c : cuts) {
    if (c.remove || c.end == c.begin) continue;
    out.push_back({text.substr(c.begin, c.end - c.begin), at_start && c.begin == 0});
  }
}

void add_steps(const json& p, const std::string& where, int depth,
               std::vector<std::shared_ptr<const PreTokenizer::Step>>& steps) {
  if (depth > kMaxNesting) {
    throw FormatError(where + ": 'pre_tokenizer' is nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)",
                      "the tokenizer file is malformed; download it again");
  }
  if (!p.is_object()) bad(where, "type", "an object with a 'type'");
  const std::string type = string_field(p, "type", where);
  if (type == "Sequence") {
    const json* list = field(p, "pretokenizers");
    if (list == nullptr || !list->is_array()) bad(where, "pretokenizers", "an array");
    for (const auto& sub : *list) add_steps(sub, where, depth + 1, steps);
    return;
  }
  auto s = std::make_shared<PreTokenizer::Step>();
  s->name = type;
  if (type == "Split") {
    s->kind = Kind::kSplit;
    const json* pat = field(p, "pattern");
    if (pat == nullptr || !pat->is_object()) bad(where, "pattern", "{\"String\": ..} or {\"Regex\": ..}");
    const json* str = field(*pat, "String");
    const json* rx = field(*pat, "Regex");
    if (str != nullptr && str->is_string()) {
      // pattern.rs: an empty String pattern matches nothing.
      if (!str->get<std::string>().empty()) {
        s->regex = std::make_unique<Regex>(Regex::escape(str->get<std::string>()), where);
      }
    } else if (rx != nullptr && rx->is_string()) {
      s->regex = std::make_unique<Regex>(rx->get<std::string>(), where + ": pre-tokenizer Split");
    } else {
      bad(where, "pattern", "{\"String\": ..} or {\"Regex\": ..}");
    }
    if (field(p, "behavior") == nullptr) bad(where, "behavior", "given for Split");
    s->behavior = parse_behavior(p, where, Behavior::kIsolated);
    s->invert = bool_field(p, "invert", false, where);
  } else if (type == "ByteLevel") {
    s->kind = Kind::kByteLevel;
    s->add_prefix_space = bool_field(p, "add_prefix_space", true, where);
    if (bool_field(p, "use_regex", true, where)) s->regex = std::make_unique<Regex>(kGpt2Pattern, where);
  } else if (type == "Metaspace") {
    s->kind = Kind::kMetaspace;
    s->replacement = string_field(p, "replacement", where);
    std::size_t one = 0;
    if (s->replacement.empty() || utf8::find_invalid(s->replacement) ||
        (utf8::next(s->replacement, one), one != s->replacement.size())) {
      bad(where, "replacement", "one character");
    }
    s->split = bool_field(p, "split", true, where);
    const json* scheme = field(p, "prepend_scheme");
    if (scheme != nullptr) {
      const std::string v = scheme->is_string() ? scheme->get<std::string>() : "";
      if (v == "always") s->prepend = Prepend::kAlways;
      else if (v == "first") s->prepend = Prepend::kFirst;
      else if (v == "never") s->prepend = Prepend::kNever;
      else bad(where, "prepend_scheme", "always, first or never");
    } else {
      // Files older than prepend_scheme carry add_prefix_space (metaspace.rs deserializer).
      s->prepend = bool_field(p, "add_prefix_space", true, where) ? Prepend::kAlways : Prepend::kNever;
    }
  } else if (type == "Digits") {
    s->kind = Kind::kCharClass;
    s->char_class = CharClass::kNumeric;
    s->behavior = bool_field(p, "individual_digits", false, where) ? Behavior::kIsolated : Behavior::kContiguous;
  } else if (type == "Punctuation") {
    s->kind = Kind::kCharClass;
    s->char_class = CharClass::kPunctuation;
    s->behavior = parse_behavior(p, where, Behavior::kIsolated);
  } else if (type == "WhitespaceSplit") {
    s->kind = Kind::kCharClass;
    s->char_class = CharClass::kWhiteSpace;
    s->behavior = Behavior::kRemoved;
  } else if (type == "Whitespace") {
    // pre_tokenizers/whitespace.rs: keep the matches of \w+|[^\w\s]+, drop the rest; that
    // regex is the Rust regex crate's, whose \w (Alphabetic, marks, Nd, Pc, Join_Control) is
    // not Oniguruma's, so the runs are found by character class instead.
    s->kind = Kind::kWhitespace;
  } else {
    throw UnsupportedError(where + ": pre-tokenizer '" + type + "' is not supported",
                           "bentov implements the pre-tokenizers Sequence, Split, ByteLevel, Metaspace, "
                           "Digits, Punctuation, Whitespace and WhitespaceSplit");
  }
  steps.push_back(std::move(s));
}

// metaspace.rs pre_tokenize on one piece: ' ' -> replacement, then the prepend scheme.
void metaspace(const PreTokenizer::Step& s, const PreTokenScratch::Piece& piece, std::string& buf) {
  const bool starts = piece.text.substr(0, s.replacement.size()) == s.replacement ||
                      (piece.text.substr(0, 1) == " ");
  const bool prepend = !starts && (s.prepend == Prepend::kAlways || (s.prepend == Prepend::kFirst && piece.at_start));
  if (prepend) buf += s.replacement;
  for (const char c : piece.text) {
    if (c == ' ') buf += s.replacement;
    else buf.push_back(c);
  }
}

}  // namespace

PreTokenizer PreTokenizer::from_json(const json* spec, const std::string& where) {
  PreTokenizer p;
  if (spec != nullptr && !spec->is_null()) add_steps(*spec, where, 0, p.steps_);
  for (std::size_t k = 0; k < p.steps_.size(); ++k) {
    if (p.steps_[k]->kind != Kind::kByteLevel) continue;
    if (k + 1 != p.steps_.size()) {
      throw UnsupportedError(where + ": a pre-tokenizer after ByteLevel ('" + p.steps_[k + 1]->name +
                                 "') is not supported",
                             "bentov applies the byte-level alphabet in the BPE model, after all splits");
    }
    p.byte_level_ = true;
  }
  return p;
}

std::string PreTokenizer::describe() const {
  std::string d;
  for (const auto& s : steps_) d += (d.empty() ? "" : "+") + s->name;
  return d;
}

void PreTokenizer::split(std::string_view text, bool at_start, PreTokenScratch& sc) const {
  sc.words.clear();
  if (text.empty()) return;
  sc.pieces.clear();
  sc.pieces.push_back({text, at_start});
  if (sc.buffers.size() < steps_.size()) sc.buffers.resize(steps_.size());
  std::vector<Match> matches;
  std::vector<Span> spans;
  std::vector<std::size_t> offsets;
  for (std::size_t k = 0; k < steps_.size(); ++k) {
    const Step& s = *steps_[k];
    sc.next.clear();
    // Transforming steps write their pieces into a buffer of their own first.
    if (s.kind == Kind::kMetaspace || (s.kind == Kind::kByteLevel && s.add_prefix_space)) {
      std::string& buf = sc.buffers[k];
      buf.clear();
      offsets.clear();
      for (const auto& piece : sc.pieces) {
        std::size_t off = buf.size();
        if (s.kind == Kind::kMetaspace) {
          metaspace(s, piece, buf);
        } else {
          if (piece.text.front() != ' ') buf.push_back(' ');  // byte_level.rs add_prefix_space
          buf.append(piece.text);
        }
        offsets.push_back(off);
      }
      offsets.push_back(buf.size());
      for (std::size_t i = 0; i < sc.pieces.size(); ++i) {
        sc.pieces[i].text = std::string_view(buf).substr(offsets[i], offsets[i + 1] - offsets[i]);
      }
    }
    for (const auto& piece : sc.pieces) {
      if (piece.text.empty()) continue;
      switch (s.kind) {
        case Kind::kWhitespace:
          word_runs(piece.text, matches);
          apply_behavior(Behavior::kRemoved, piece.text, piece.at_start, matches, sc.next);
          break;
        case Kind::kSplit:
          if (s.regex == nullptr) {
            matches.assign(1, Match{0, piece.text.size(), false});
          } else {
            regex_matches(*s.regex, piece.text, spans, matches);
          }
          if (s.invert) for (Match& m : matches) m.is_match = !m.is_match;
          apply_behavior(s.behavior, piece.text, piece.at_start, matches, sc.next);
          break;
        case Kind::kCharClass:
          char_matches(s.char_class, piece.text, matches);
          apply_behavior(s.behavior, piece.text, piece.at_start, matches, sc.next);
          break;
        case Kind::kByteLevel:
          if (s.regex == nullptr) {
            sc.next.push_back(piece);
          } else {
            regex_matches(*s.regex, piece.text, spans, matches);
            apply_behavior(Behavior::kIsolated, piece.text, piece.at_start, matches, sc.next);
          }
          break;
        case Kind::kMetaspace:
          if (s.split) {
            // metaspace.rs: split on the replacement char, MergedWithNext.
            matches.clear();
            std::size_t last = 0, pos = 0;
            while ((pos = piece.text.find(s.replacement, pos)) != std::string_view::npos) {
              if (last < pos) matches.push_back({last, pos, false});
              matches.push_back({pos, pos + s.replacement.size(), true});
              pos += s.replacement.size();
              last = pos;
            }
            if (last < piece.text.size()) matches.push_back({last, piece.text.size(), false});
            apply_behavior(Behavior::kMergedWithNext, piece.text, piece.at_start, matches, sc.next);
          } else {
            sc.next.push_back(piece);
          }
          break;
      }
    }
    sc.pieces.swap(sc.next);
  }
  for (const auto& piece : sc.pieces) {
    if (!piece.text.empty()) sc.words.push_back(piece.text);
  }
}

}  // namespace bentov
