#include "bentov/tokenizer/normalizer.h"

#include <utf8proc.h>

#include <nlohmann/json.hpp>

#include "bentov/error.h"
#include "bentov/tokenizer/regex.h"
#include "bentov/tokenizer/unicode_class.h"
#include "bentov/tokenizer/utf8.h"

namespace bentov {
using nlohmann::json;

namespace {
constexpr int kMaxNesting = 32;

enum class Kind { kUnicode, kPrepend, kReplace, kStrip, kLowercase };
}  // namespace

struct Normalizer::Step {
  Kind kind = Kind::kUnicode;
  Normalization form = Normalization::kNone;  // kUnicode
  std::string text;                           // kPrepend: prefix; kReplace: content
  std::string literal;                        // kReplace with a String pattern
  std::unique_ptr<Regex> regex;               // kReplace with a Regex pattern
  bool left = false, right = false;           // kStrip
  std::string name;                           // tokenizer.json type
};

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& field, const std::string& want) {
  throw FormatError(where + ": 'normalizer." + field + "' must be " + want,
                    "the tokenizer file is malformed; download it again");
}

std::string string_field(const json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) bad(where, key, "a string");
  return it->get<std::string>();
}

bool bool_field(const json& j, const char* key, bool fallback, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) bad(where, key, "true or false");
  return it->get<bool>();
}

// Rust's str::replace semantics: every non-overlapping occurrence, left to right.
void replace_literal(std::string_view text, std::string_view from, std::string_view to, std::string& out) {
  out.clear();
  if (from.empty()) {
    out.assign(text);
    return;
  }
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = text.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
}

// normalizer.rs NormalizedString::lstrip / rstrip: Rust's char::is_whitespace (White_Space).
std::string_view strip(std::string_view s, bool left, bool right) {
  std::size_t b = 0, e = s.size();
  if (left) {
    while (b < e) {
      std::size_t next = b;
      if (!unicode::is_white_space(utf8::next(s, next))) break;
      b = next;
    }
  }
  if (right) {
    while (e > b) {
      std::size_t start = e - 1;
      while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      std::size_t tmp = start;
      if (!unicode::is_white_space(utf8::next(s, tmp))) break;
      e = start;
    }
  }
  return s.substr(b, e - b);
}

// normalizer.rs NormalizedString::lowercase: each char's full Unicode lowercase mapping
// (Rust char::to_lowercase). The only unconditional one-to-many mapping is U+0130 ->
// "i\u0307" (SpecialCasing.txt); the others are utf8proc's simple mappings.
void lowercase(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char32_t c = utf8::next(text, i);
    if (c == 0x130) {
      out += "i\xCC\x87";
      continue;
    }
    utf8::append(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
  }
}

void add_steps(const json& n, const std::string& where, int depth,
               std::vector<std::shared_ptr<const Normalizer::Step>>& steps) {
  if (depth > kMaxNesting) {
    throw FormatError(where + ": 'normalizer' is nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)",
                      "the tokenizer file is malformed; download it again");
  }
  if (!n.is_object()) bad(where, "type", "an object with a 'type'");
  const std::string type = string_field(n, "type", where);
  if (type == "Sequence") {
    const auto it = n.find("normalizers");
    if (it == n.end() || !it->is_array()) bad(where, "normalizers", "an array");
    for (const auto& sub : *it) add_steps(sub, where, depth + 1, steps);
    return;
  }
  auto step = std::make_shared<Normalizer::Step>();
  step->name = type;
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    step->kind = Kind::kUnicode;
    step->form = parse_normalization(type);
  } else if (type == "Prepend") {
    step->kind = Kind::kPrepend;
    step->text = string_field(n, "prepend", where);
  } else if (type == "Replace") {
    step->kind = Kind::kReplace;
    step->text = string_field(n, "content", where);
    const auto pat = n.find("pattern");
    if (pat == n.end() || !pat->is_object()) bad(where, "pattern", "{\"String\": ..} or {\"Regex\": ..}");
    if (pat->contains("String") && (*pat)["String"].is_string()) {
      step->literal = (*pat)["String"].get<std::string>();
    } else if (pat->contains("Regex") && (*pat)["Regex"].is_string()) {
      step->regex = std::make_unique<Regex>((*pat)["Regex"].get<std::string>(), where + ": normalizer Replace");
    } else {
      bad(where, "pattern", "{\"String\": ..} or {\"Regex\": ..}");
    }
  } else if (type == "Strip") {
    step->kind = Kind::kStrip;
    step->left = bool_field(n, "strip_left", true, where);
    step->right = bool_field(n, "strip_right", true, where);
  } else if (type == "Lowercase") {
    step->kind = Kind::kLowercase;
  } else {
    throw UnsupportedError(where + ": normalizer '" + type + "' is not supported",
                           "bentov implements the normalizers Sequence, NFC, NFD, NFKC, NFKD, Prepend, "
                           "Replace, Strip and Lowercase");
  }
  steps.push_back(std::move(step));
}

void apply_step(const Normalizer::Step& s, std::string_view text, std::string& out) {
  switch (s.kind) {
    case Kind::kUnicode:
      normalize(s.form, text, out);
      return;
    case Kind::kPrepend:  // normalizers/prepend.rs: only a non-empty string gets the prefix
      out.clear();
      if (!text.empty()) out = s.text;
      out.append(text);
      return;
    case Kind::kReplace:
      if (s.regex == nullptr) {
        replace_literal(text, s.literal, s.text, out);
        return;
      } else {
        std::vector<Span> hits;
        s.regex->find_all(text, hits);
        out.clear();
        std::size_t pos = 0;
        for (const Span& h : hits) {
          out.append(text.substr(pos, h.begin - pos));
          out.append(s.text);
          pos = h.end;
        }
        out.append(text.substr(pos));
      }
      return;
    case Kind::kStrip:
      out.assign(strip(text, s.left, s.right));
      return;
    case Kind::kLowercase:
      lowercase(text, out);
      return;
  }
}

}  // namespace

Normalizer Normalizer::from_json(const json* spec, const std::string& where) {
  Normalizer n;
  if (spec != nullptr && !spec->is_null()) add_steps(*spec, where, 0, n.steps_);
  return n;
}

Normalizer Normalizer::unicode(Normalization form) {
  Normalizer n;
  if (form != Normalization::kNone) {
    auto step = std::make_shared<Step>();
    step->form = form;
    step->name = std::string(normalization_name(form));
    n.steps_.push_back(std::move(step));
  }
  return n;
}

void Normalizer::apply(std::string_view text, std::string& out) const {
  if (steps_.empty()) {
    out.assign(text);
    return;
  }
  std::string tmp;
  std::string_view cur = text;
  for (std::size_t k = 0; k < steps_.size(); ++k) {
    std::string& dst = (k % 2 == 0) ? out : tmp;
    apply_step(*steps_[k], cur, dst);
    cur = dst;
  }
  if (steps_.size() % 2 == 0) out = std::move(tmp);
}

std::string Normalizer::describe() const {
  std::string d;
  for (const auto& s : steps_) d += (d.empty() ? "" : "+") + s->name;
  return d;
}

}  // namespace bentov
