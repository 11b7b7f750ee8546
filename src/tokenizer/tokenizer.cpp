#include "bentov/tokenizer/tokenizer.h"

#include <unordered_set>

#include "bentov/error.h"
#include "bentov/tokenizer/added_vocabulary.h"
#include "bentov/tokenizer/bpe.h"
#include "bentov/tokenizer/byte_level.h"
#include "bentov/tokenizer/normalize.h"
#include "bentov/tokenizer/pretokenize.h"
#include "bentov/tokenizer/tokenizer_files.h"
#include "bentov/tokenizer/utf8.h"

namespace bentov {

struct Tokenizer::Impl {
  std::string source;
  Normalization normalization = Normalization::kNone;
  bool add_prefix_space = false;
  bool use_regex = true;
  std::unique_ptr<BpeModel> bpe;
  AddedVocabulary added;
  GptPreTokenizer pretokenizer;
  std::vector<std::int32_t> prefix_ids;
  std::vector<std::int32_t> suffix_ids;
  std::size_t vocab_size = 0;

  // Appends the ids of `text`, a piece with no added token left in it (already normalized).
  void encode_piece(std::string_view text, std::vector<std::int32_t>& ids,
                    std::vector<std::string_view>& words, std::string& scratch) const {
    if (text.empty()) return;
    // ByteLevel pre-tokenizer (pre_tokenizers/byte_level.rs): prefix space per split.
    if (add_prefix_space && text.front() != ' ') {
      scratch.assign(1, ' ');
      scratch.append(text);
      text = scratch;
    }
    if (!use_regex) {
      bpe->encode_word(text, ids);
      return;
    }
    words.clear();
    pretokenizer.split(text, words);
    for (const std::string_view w : words) bpe->encode_word(w, ids);
  }
};

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

bool Tokenizer::available(const std::filesystem::path& dir) { return has_tokenizer_files(dir); }

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  TokenizerSpec spec = read_tokenizer_files(dir);
  auto impl = std::make_shared<Impl>();
  impl->source = spec.source;
  impl->normalization = spec.normalization;
  impl->add_prefix_space = spec.add_prefix_space;
  impl->use_regex = spec.use_regex;
  impl->prefix_ids = spec.prefix_ids;
  impl->suffix_ids = spec.suffix_ids;
  std::unordered_set<std::int32_t> ids;
  for (const auto& [tok, id] : spec.vocab) ids.insert(id);
  for (const auto& a : spec.added) ids.insert(a.id);
  impl->vocab_size = ids.size();
  const std::string where = (dir / (spec.source == "tokenizer.json" ? "tokenizer.json" : "merges.txt")).string();
  impl->bpe = std::make_unique<BpeModel>(std::move(spec.vocab), spec.merges, spec.ignore_merges, where);
  impl->added = AddedVocabulary(std::move(spec.added), spec.normalization);
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
  std::vector<std::string_view> words;
  std::string normalized, scratch;
  // 1. Added tokens matched on the raw text (added_vocabulary.rs extract_and_normalize).
  m.added.split_raw(text, raw);
  for (const auto& piece : raw) {
    if (piece.id >= 0) {
      ids.push_back(piece.id);
      continue;
    }
    // 2. Normalize the remaining piece, then match the normalized added tokens in it.
    normalize(m.normalization, piece.text, normalized);
    norm.clear();
    m.added.split_normalized(normalized, norm);
    for (const auto& p : norm) {
      if (p.id >= 0) {
        ids.push_back(p.id);
      } else {
        m.encode_piece(p.text, ids, words, scratch);  // 3. pre-tokenize, 4. BPE
      }
    }
  }
  // 5. Post-processor.
  ids.insert(ids.end(), m.suffix_ids.begin(), m.suffix_ids.end());
  return ids;
}

std::string Tokenizer::token_bytes(int32_t id) const {
  const Impl& m = *impl_;
  // tokenizers' decode looks added tokens up first, then the model; the ByteLevel decoder maps
  // each token's characters back to bytes, keeping a token's own UTF-8 when one of them is not
  // in the byte alphabet (decoders/byte_level.rs decode_chain).
  const std::string* tok = nullptr;
  if (const AddedToken* a = m.added.find(id)) {
    tok = &a->content;
  } else {
    tok = m.bpe->token(id);
  }
  if (tok == nullptr) {
    throw InputError("token id " + std::to_string(id) + " is not in the vocabulary",
                     "ids must lie in [0, " + std::to_string(vocab_size()) + ")");
  }
  if (auto bytes = byte_level::decode(*tok)) return *bytes;
  return *tok;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string bytes;
  for (const int32_t id : ids) bytes += token_bytes(id);
  return utf8::repair_lossy(bytes);
}

std::string Tokenizer::token_text(int32_t id) const { return utf8::repair_lossy(token_bytes(id)); }

std::size_t Tokenizer::vocab_size() const { return impl_->vocab_size; }

std::string Tokenizer::kind() const {
  std::string k = impl_->source + " (byte-level BPE";
  const std::string_view norm = normalization_name(impl_->normalization);
  if (!norm.empty()) k += ", " + std::string(norm);
  return k + ")";
}

}  // namespace bentov
