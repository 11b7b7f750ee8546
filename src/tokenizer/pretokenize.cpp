#define PCRE2_CODE_UNIT_WIDTH 8
#include "bentov/tokenizer/pretokenize.h"

#include <pcre2.h>

#include <string>

#include "bentov/error.h"

namespace bentov {
namespace {

// Oniguruma's Unicode \s: the White_Space property (Unicode PropList.txt).
constexpr const char* kWs =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}";

std::string gpt2_pattern() {
  const std::string ws = kWs;
  return "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" + ws + "\\p{L}\\p{N}]+|[" + ws +
         "]+(?![^" + ws + "])|[" + ws + "]+";
}

}  // namespace

struct GptPreTokenizer::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Impl() {
    if (code != nullptr) pcre2_code_free(code);
  }
};

GptPreTokenizer::GptPreTokenizer() : impl_(std::make_unique<Impl>()) {
  const std::string pattern = gpt2_pattern();
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &err_offset,
                              nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw UnsupportedError(std::string("cannot compile the GPT-2 pre-tokenizer regex: ") +
                               reinterpret_cast<const char*>(msg),
                           "PCRE2 must be built with Unicode support");
  }
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

GptPreTokenizer::~GptPreTokenizer() = default;

void GptPreTokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
  if (text.empty()) return;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  PCRE2_SIZE pos = 0;
  while (pos < text.size()) {
    const int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, text.size(), pos, 0, md, nullptr)
                              : pcre2_match(impl_->code, subject, text.size(), pos,
                                            PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) break;  // no further match: the rest is one piece
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const PCRE2_SIZE start = ov[0], end = ov[1];
    if (start > pos) out.push_back(text.substr(pos, start - pos));
    if (end == start) {
      // Unreachable with this pattern (no alternative matches empty); guard against a loop.
      break;
    }
    out.push_back(text.substr(start, end - start));
    pos = end;
  }
  if (pos < text.size()) out.push_back(text.substr(pos));
  pcre2_match_data_free(md);
}

}  // namespace bentov
