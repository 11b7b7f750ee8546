#include "bentov/tokenizer/tokenizer.h"

#include <unordered_set>

#include "bentov/error.h"
#include "bentov/tokenizer/added_vocabulary.h"
#include "bentov/tokenizer/bpe.h"
#include "bentov/tokenizer/byte_level.h"
#include "bentov/tokenizer/decoder.h"
#include "bentov/tokenizer/normalizer.h"
#include "bentov/tokenizer/pre_tokenizer.h"
#include "bentov/tokenizer/tokenizer_files.h"
#include "bentov/tokenizer/utf8.h"

namespace bentov {

struct Tokenizer::Impl {
  std::string source;
  std::string tokenizer_class;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  Decoder decoder;
  std::unique_ptr<BpeModel> bpe;
  AddedVocabulary added;
  std::vector<std::int32_t> prefix_ids;
  std::vector<std::int32_t> suffix_ids;
  std::size_t vocab_size = 0;

  // Appends the ids of `text`, a normalized piece with no added token left in it.
  void encode_piece(std::string_view text, bool at_start, std::vector<std::int32_t>& ids,
                    PreTokenScratch& scratch) const {
    if (text.empty()) return;
    pre_tokenizer.split(text, at_start, scratch);
    for (const std::string_view w : scratch.words) bpe->encode_word(w, ids);
  }

  // The token string of `id` as tokenizers' decode sees it: an added token's content, else
  // the model's token; nullptr for an unknown id.
  const std::string* token_string(std::int32_t id) const {
    if (const AddedToken* a = added.find(id)) return &a->content;
    return bpe->token(id);
  }
};

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

bool Tokenizer::available(const std::filesystem::path& dir) { return has_tokenizer_files(dir); }

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  TokenizerSpec spec = read_tokenizer_files(dir);
  auto impl = std::make_shared<Impl>();
  impl->source = spec.source;
  impl->tokenizer_class = spec.tokenizer_class;
  impl->normalizer = Normalizer::from_json(&spec.normalizer, spec.where);
  impl->pre_tokenizer = PreTokenizer::from_json(&spec.pre_tokenizer, spec.where);
  impl->decoder = Decoder::from_json(&spec.decoder, spec.where);
  impl->prefix_ids = spec.prefix_ids;
  impl->suffix_ids = spec.suffix_ids;
  std::unordered_set<std::int32_t> ids;
  for (const auto& [tok, id] : spec.vocab) ids.insert(id);
  for (const auto& a : spec.added) ids.insert(a.id);
  impl->vocab_size = ids.size();
  spec.bpe.byte_level_input = impl->pre_tokenizer.byte_level();
  impl->bpe = std::make_unique<BpeModel>(std::move(spec.vocab), spec.merges, spec.bpe, spec.where);
  impl->added = AddedVocabulary(std::move(spec.added), impl->normalizer);
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  if (const auto bad = utf8::find_invalid(text)) {
    throw InputError("text is not valid UTF-8 (byte offset " + std::to_string(*bad) + ")",
                     "pass UTF-8 text; re-encode the file, e.g. with iconv -t UTF-8");
  }
  const Impl& m = *impl_;
  std::vector<int32_t> ids(m.prefix_ids.begin(), m.prefix_ids.end());
  ids.reserve(text.size() / 3 + 8);
  std::vector<AddedVocabulary::Piece> raw, norm;
  PreTokenScratch scratch;
  std::string normalized;
  // 1. Added tokens matched on the raw text (added_vocabulary.rs extract_and_normalize).
  m.added.split_raw(text, raw);
  for (const auto& piece : raw) {
    if (piece.id >= 0) {
      ids.push_back(piece.id);
      continue;
    }
    const bool raw_at_start = piece.text.data() == text.data();
    // 2. Normalize the remaining piece, then match the normalized added tokens in it.
    m.normalizer.apply(piece.text, normalized);
    norm.clear();
    m.added.split_normalized(normalized, norm);
    for (const auto& p : norm) {
      if (p.id >= 0) {
        ids.push_back(p.id);
      } else {
        const bool at_start = raw_at_start && p.text.data() == normalized.data();
        m.encode_piece(p.text, at_start, ids, scratch);  // 3. pre-tokenize, 4. BPE
      }
    }
  }
  // 5. Post-processor.
  ids.insert(ids.end(), m.suffix_ids.begin(), m.suffix_ids.end());
  return ids;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  const Impl& m = *impl_;
  const std::string* tok = m.token_string(id);
  if (tok == nullptr) {
    throw InputError("token id " + std::to_string(id) + " is not in the vocabulary",
                     "ids must lie in [0, " + std::to_string(vocab_size()) + ")");
  }
  // decoders/byte_level.rs keeps a token's own UTF-8 when a char is outside the alphabet.
  if (m.decoder.byte_level()) {
    if (auto bytes = byte_level::decode(*tok)) return *bytes;
  }
  return *tok;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  const Impl& m = *impl_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    const std::string* tok = m.token_string(id);
    if (tok == nullptr) {
      throw InputError("token id " + std::to_string(id) + " is not in the vocabulary",
                       "ids must lie in [0, " + std::to_string(vocab_size()) + ")");
    }
    tokens.push_back(*tok);
  }
  return utf8::repair_lossy(m.decoder.decode(std::move(tokens)));
}

std::string Tokenizer::token_text(int32_t id) const { return decode(std::span<const int32_t>(&id, 1)); }

std::size_t Tokenizer::vocab_size() const { return impl_->vocab_size; }

std::string Tokenizer::kind() const {
  const Impl& m = *impl_;
  const bool byte_level = m.pre_tokenizer.byte_level();
  std::string k = m.source + " (" + (byte_level ? "byte-level BPE" : "BPE");
  if (const std::string n = m.normalizer.describe(); !n.empty()) k += ", " + n;
  if (!byte_level) {
    if (const std::string p = m.pre_tokenizer.describe(); !p.empty()) k += ", " + p;
    if (m.bpe->options().byte_fallback) k += ", byte fallback";
  }
  return k + ")";
}

}  // namespace bentov
