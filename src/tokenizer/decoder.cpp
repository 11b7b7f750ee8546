#include "bentov/tokenizer/decoder.h"

#include <nlohmann/json.hpp>

#include "bentov/error.h"
#include "bentov/tokenizer/byte_level.h"
#include "bentov/tokenizer/regex.h"
#include "bentov/tokenizer/utf8.h"

namespace bentov {
using nlohmann::json;

namespace {
constexpr int kMaxNesting = 32;
enum class Kind { kByteLevel, kMetaspace, kReplace, kByteFallback, kFuse, kStrip };
}  // namespace

struct Decoder::Step {
  Kind kind = Kind::kFuse;
  std::string replacement;       // kMetaspace: the char; kReplace: content
  bool prepend = true;           // kMetaspace: prepend_scheme != never
  std::string literal;           // kReplace String pattern
  std::unique_ptr<Regex> regex;  // kReplace Regex pattern
  char32_t content = ' ';        // kStrip
  std::size_t start = 0, stop = 0;
};

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& field, const std::string& want) {
  throw FormatError(where + ": 'decoder." + field + "' must be " + want,
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

std::size_t count_field(const json& j, const char* key, const std::string& where) {
  const json* v = field(j, key);
  if (v == nullptr) return 0;
  if (!v->is_number_integer() || v->get<std::int64_t>() < 0 || v->get<std::int64_t>() > 1000000) {
    bad(where, key, "a small count");
  }
  return static_cast<std::size_t>(v->get<std::int64_t>());
}

void add_steps(const json& d, const std::string& where, int depth, std::vector<std::shared_ptr<const Decoder::Step>>& steps) {
  if (depth > kMaxNesting) {
    throw FormatError(where + ": 'decoder' is nested too deeply (more than " + std::to_string(kMaxNesting) + " levels)",
                      "the tokenizer file is malformed; download it again");
  }
  if (!d.is_object()) bad(where, "type", "an object with a 'type'");
  const std::string type = string_field(d, "type", where);
  if (type == "Sequence") {
    const json* list = field(d, "decoders");
    if (list == nullptr || !list->is_array()) bad(where, "decoders", "an array");
    for (const auto& sub : *list) add_steps(sub, where, depth + 1, steps);
    return;
  }
  auto s = std::make_shared<Decoder::Step>();
  if (type == "ByteLevel") {
    s->kind = Kind::kByteLevel;
  } else if (type == "Metaspace") {
    s->kind = Kind::kMetaspace;
    s->replacement = string_field(d, "replacement", where);
    if (const json* scheme = field(d, "prepend_scheme")) {
      s->prepend = !(scheme->is_string() && scheme->get<std::string>() == "never");
    } else if (const json* aps = field(d, "add_prefix_space")) {
      s->prepend = aps->is_boolean() && aps->get<bool>();
    }
  } else if (type == "Replace") {
    s->kind = Kind::kReplace;
    s->replacement = string_field(d, "content", where);
    const json* pat = field(d, "pattern");
    if (pat != nullptr && field(*pat, "String") && (*pat)["String"].is_string()) {
      s->literal = (*pat)["String"].get<std::string>();
    } else if (pat != nullptr && field(*pat, "Regex") && (*pat)["Regex"].is_string()) {
      s->regex = std::make_unique<Regex>((*pat)["Regex"].get<std::string>(), where + ": decoder Replace");
    } else {
      bad(where, "pattern", "{\"String\": ..} or {\"Regex\": ..}");
    }
  } else if (type == "ByteFallback") {
    s->kind = Kind::kByteFallback;
  } else if (type == "Fuse") {
    s->kind = Kind::kFuse;
  } else if (type == "Strip") {
    s->kind = Kind::kStrip;
    const std::string c = string_field(d, "content", where);
    std::size_t i = 0;
    if (c.empty() || utf8::find_invalid(c) || (s->content = utf8::next(c, i), i != c.size())) {
      bad(where, "content", "one character");
    }
    s->start = count_field(d, "start", where);
    s->stop = count_field(d, "stop", where);
  } else {
    throw UnsupportedError(where + ": decoder '" + type + "' is not supported",
                           "bentov implements the decoders ByteLevel, Metaspace, Replace, ByteFallback, "
                           "Fuse, Strip and Sequence");
  }
  steps.push_back(std::move(s));
}

std::string replace_all(const Decoder::Step& s, const std::string& t) {
  std::string out;
  std::size_t pos = 0;
  if (s.regex) {
    std::vector<Span> hits;
    s.regex->find_all(t, hits);
    for (const Span& h : hits) {
      out.append(t, pos, h.begin - pos);
      out += s.replacement;
      pos = h.end;
    }
  } else if (!s.literal.empty()) {
    for (std::size_t hit; (hit = t.find(s.literal, pos)) != std::string::npos; pos = hit + s.literal.size()) {
      out.append(t, pos, hit - pos);
      out += s.replacement;
    }
  }
  out.append(t, pos, std::string::npos);
  return out;
}

// byte_fallback.rs: "<0xNN>" tokens (exactly six bytes) are collected and flushed as one
// string when they form UTF-8, else as one U+FFFD per byte.
std::vector<std::string> byte_fallback(std::vector<std::string> tokens) {
  std::vector<std::string> out;
  std::string bytes;
  std::size_t count = 0;
  auto flush = [&] {
    if (count == 0) return;
    if (!utf8::find_invalid(bytes)) {
      out.push_back(bytes);
    } else {
      for (std::size_t k = 0; k < count; ++k) out.emplace_back("\xEF\xBF\xBD");
    }
    bytes.clear();
    count = 0;
  };
  for (auto& t : tokens) {
    int value = -1;
    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
      auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
      const int hi = hex(t[3]), lo = hex(t[4]);
      if (hi >= 0 && lo >= 0) value = hi * 16 + lo;
    }
    if (value >= 0) {
      bytes.push_back(static_cast<char>(value));
      ++count;
    } else {
      flush();
      out.push_back(std::move(t));
    }
  }
  flush();
  return out;
}

// strip.rs: up to `start` leading and `stop` trailing `content` chars of every token.
std::string strip(const Decoder::Step& s, const std::string& t) {
  std::vector<std::size_t> starts;  // byte offset of each char
  for (std::size_t i = 0; i < t.size();) {
    starts.push_back(i);
    (void)utf8::next(t, i);
  }
  const std::size_t n = starts.size();
  auto char_at = [&](std::size_t k) {
    std::size_t i = starts[k];
    return utf8::next(t, i);
  };
  std::size_t cut_start = 0, cut_stop = n;
  for (std::size_t k = 0; k < s.start && k < n && char_at(k) == s.content; ++k) cut_start = k + 1;
  for (std::size_t k = 0; k < s.stop && k < n && char_at(n - 1 - k) == s.content; ++k) cut_stop = n - 1 - k;
  if (cut_stop <= cut_start) return {};
  const std::size_t b = starts[cut_start], e = cut_stop < n ? starts[cut_stop] : t.size();
  return t.substr(b, e - b);
}

std::vector<std::string> apply(const Decoder::Step& s, std::vector<std::string> tokens) {
  switch (s.kind) {
    case Kind::kByteLevel: {
      // byte_level.rs decode_chain: every token's chars back to bytes (a char outside the
      // alphabet keeps its own UTF-8), then from_utf8_lossy over the whole.
      std::string bytes;
      for (const auto& t : tokens) {
        if (auto b = byte_level::decode(t)) bytes += *b;
        else bytes += t;
      }
      return {utf8::repair_lossy(bytes)};
    }
    case Kind::kMetaspace:
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        std::string out;
        const std::string& t = tokens[i];
        for (std::size_t pos = 0; pos < t.size();) {
          if (t.compare(pos, s.replacement.size(), s.replacement) == 0) {
            if (!(i == 0 && s.prepend)) out.push_back(' ');
            pos += s.replacement.size();
          } else {
            const std::size_t b = pos;
            (void)utf8::next(t, pos);
            out.append(t, b, pos - b);
          }
        }
        tokens[i] = std::move(out);
      }
      return tokens;
    case Kind::kReplace:
      for (auto& t : tokens) t = replace_all(s, t);
      return tokens;
    case Kind::kByteFallback:
      return byte_fallback(std::move(tokens));
    case Kind::kFuse: {
      std::string all;
      for (const auto& t : tokens) all += t;
      return {all};
    }
    case Kind::kStrip:
      for (auto& t : tokens) t = strip(s, t);
      return tokens;
  }
  return tokens;
}

}  // namespace

Decoder Decoder::from_json(const json* spec, const std::string& where) {
  Decoder d;
  if (spec != nullptr && !spec->is_null()) add_steps(*spec, where, 0, d.steps_);
  for (const auto& s : d.steps_) d.byte_level_ = d.byte_level_ || s->kind == Kind::kByteLevel;
  return d;
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  for (const auto& s : steps_) tokens = apply(*s, std::move(tokens));
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

}  // namespace bentov
