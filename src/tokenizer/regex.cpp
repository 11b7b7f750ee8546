#define PCRE2_CODE_UNIT_WIDTH 8
#include "bentov/tokenizer/regex.h"

#include <pcre2.h>

#include "bentov/error.h"
#include "bentov/tokenizer/utf8.h"

namespace bentov {
namespace {

// White_Space (Unicode PropList.txt): Oniguruma's and Rust's Unicode \s.
constexpr const char* kWhiteSpace =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";
// Oniguruma's Unicode \w (Letter, Mark, Number, Connector_Punctuation).
constexpr const char* kWord = "\\p{L}\\p{M}\\p{N}\\p{Pc}";

[[noreturn]] void refuse(const std::string& where, const std::string& what) {
  throw UnsupportedError(where + ": regex construct " + what + " is not supported",
                         "bentov translates Oniguruma patterns to PCRE2; this one has no exact equivalent");
}

}  // namespace

std::string translate_onig_pattern(std::string_view p, const std::string& where) {
  std::string out;
  out.reserve(p.size() * 2);
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[++i];
      const bool negated = e == 'S' || e == 'W';
      const char* set = (e == 's' || e == 'S') ? kWhiteSpace : (e == 'w' || e == 'W') ? kWord : nullptr;
      if (set == nullptr) {
        out.push_back('\\');
        out.push_back(e);
      } else if (in_class) {
        if (negated) refuse(where, std::string("\\") + e + " inside brackets");
        out += set;
      } else {
        out += negated ? "[^" : "[";
        out += set;
        out += "]";
      }
      continue;
    }
    if (in_class) {
      if (c == '[' && (i + 1 >= p.size() || p[i + 1] != ':')) refuse(where, "'[' nested in brackets");
      if (c == '&' && i + 1 < p.size() && p[i + 1] == '&') refuse(where, "'&&' (class intersection)");
      if (c == ']') in_class = false;
      out.push_back(c);
      continue;
    }
    if (c == '[') {
      in_class = true;
      out.push_back(c);
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') out.push_back(p[++i]);
      if (i + 1 < p.size() && p[i + 1] == ']') out.push_back(p[++i]);
      continue;
    }
    out.push_back(c);
  }
  return out;
}

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Impl() {
    if (code != nullptr) pcre2_code_free(code);
  }
};

Regex::Regex(std::string_view onig_pattern, const std::string& where)
    : impl_(std::make_unique<Impl>()), translated_(translate_onig_pattern(onig_pattern, where)) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated_.data()), translated_.size(),
                              PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw UnsupportedError(where + ": cannot compile regex '" + std::string(onig_pattern) +
                               "': " + reinterpret_cast<const char*>(msg),
                           "bentov runs tokenizer regexes with PCRE2");
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() = default;

void Regex::find_all(std::string_view text, std::vector<Span>& out) const {
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t pos = 0;
  std::size_t last_match_end = std::string_view::npos;
  // onig crate FindMatches::next: search from `pos`; an empty match ending where the previous
  // match ended is skipped by moving one character on.
  while (pos <= text.size()) {
    const int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, text.size(), pos, 0, md, nullptr)
                              : pcre2_match(impl_->code, subject, text.size(), pos,
                                            PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      // Match or depth limit on a pathological pattern: never a silently different split.
      pcre2_match_data_free(md);
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      throw UnsupportedError(std::string("tokenizer regex '") + translated_ + "' failed on this text: " +
                                 reinterpret_cast<const char*>(msg),
                             "the tokenizer's pattern backtracks too much for PCRE2's limits");
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const std::size_t s = ov[0], e = ov[1];
    if (s == e && last_match_end == e) {
      if (pos >= text.size()) break;
      std::size_t next = pos;
      (void)utf8::next(text, next);
      pos = next;
      continue;
    }
    out.push_back({s, e});
    pos = e;
    last_match_end = e;
  }
  pcre2_match_data_free(md);
}

std::string Regex::escape(std::string_view literal) {
  std::string out;
  out.reserve(literal.size() * 2);
  for (const char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-#&~ ").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace bentov
