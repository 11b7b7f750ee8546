#include "bentov/tokenizer/pretokenize.h"

#include <string>

#include "bentov/tokenizer/regex.h"

namespace bentov {

struct GptPreTokenizer::Impl {
  // pre_tokenizers/byte_level.rs, in Oniguruma syntax (regex.h translates \s and \S).
  Regex regex{"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
              "the GPT-2 pre-tokenizer"};
};

GptPreTokenizer::GptPreTokenizer() : impl_(std::make_unique<Impl>()) {}

GptPreTokenizer::~GptPreTokenizer() = default;

void GptPreTokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
  if (text.empty()) return;
  std::vector<Span> hits;
  impl_->regex.find_all(text, hits);
  std::size_t pos = 0;
  for (const Span& h : hits) {
    if (h.begin > pos) out.push_back(text.substr(pos, h.begin - pos));
    if (h.end > h.begin) out.push_back(text.substr(h.begin, h.end - h.begin));
    pos = h.end;
  }
  if (pos < text.size()) out.push_back(text.substr(pos));
}

}  // namespace bentov
