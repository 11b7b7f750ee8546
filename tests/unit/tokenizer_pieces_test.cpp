// Unit tests of the tokenizer's parts: UTF-8 helpers, the byte-level alphabet, the GPT-2
// pre-tokenizer regex, added-token splitting and the BPE merge loop, each on hand-made inputs.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bentov/error.h"
#include "bentov/tokenizer/added_vocabulary.h"
#include "bentov/tokenizer/bpe.h"
#include "bentov/tokenizer/byte_level.h"
#include "bentov/tokenizer/pretokenize.h"
#include "bentov/tokenizer/utf8.h"

namespace {

using bentov::AddedToken;
using bentov::AddedVocabulary;
using bentov::BpeModel;

TEST(TokenizerUtf8, FindsTheFirstInvalidByte) {
  EXPECT_FALSE(bentov::utf8::find_invalid("plain ascii text, long enough for the fast path"));
  EXPECT_FALSE(bentov::utf8::find_invalid("caf\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_EQ(bentov::utf8::find_invalid("abc\xFFz"), 3u);
  EXPECT_EQ(bentov::utf8::find_invalid("abcdefghij\xC3"), 10u);         // truncated
  EXPECT_EQ(bentov::utf8::find_invalid("\xC0\xAF"), 0u);                // overlong '/'
  EXPECT_EQ(bentov::utf8::find_invalid("x\xED\xA0\x80"), 1u);           // surrogate U+D800
  EXPECT_EQ(bentov::utf8::find_invalid("\xF4\x90\x80\x80"), 0u);        // > U+10FFFF
}

TEST(TokenizerUtf8, RepairsLikeFromUtf8Lossy) {
  // Maximal subparts: "\xF0\x9F\x98" (a truncated emoji) is one U+FFFD, "\xFF" another.
  EXPECT_EQ(bentov::utf8::repair_lossy("a\xF0\x9F\x98" "b\xFF"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(bentov::utf8::repair_lossy("ok \xC3\xA9"), "ok \xC3\xA9");
}

TEST(TokenizerByteLevel, MapsBytesLikeGpt2) {
  EXPECT_EQ(bentov::byte_level::to_char(' '), U'\u0120');   // 'Ġ'
  EXPECT_EQ(bentov::byte_level::to_char('\n'), U'\u010A');  // 'Ċ'
  EXPECT_EQ(bentov::byte_level::to_char('A'), U'A');
  EXPECT_EQ(bentov::byte_level::to_char(0xAD), U'\u0143');  // the last of the 68 shifted bytes
  EXPECT_EQ(bentov::byte_level::encode(" hi"), "\xC4\xA0hi");
}

TEST(TokenizerByteLevel, RoundTripsAllBytes) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const auto back = bentov::byte_level::decode(bentov::byte_level::encode(all));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, all);
  EXPECT_FALSE(bentov::byte_level::decode("a b").has_value());  // ' ' is not in the alphabet
}

std::vector<std::string> split(std::string_view text) {
  static const bentov::GptPreTokenizer pre;
  std::vector<std::string_view> pieces;
  pre.split(text, pieces);
  return {pieces.begin(), pieces.end()};
}

using Pieces = std::vector<std::string>;

TEST(TokenizerPreTokenize, SplitsLikeTheGpt2Regex) {
  EXPECT_EQ(split("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split("I'm here"), (Pieces{"I", "'m", " here"}));
  EXPECT_EQ(split("I'M"), (Pieces{"I", "'", "M"}));  // contractions are case-sensitive
  EXPECT_EQ(split("we'll they've"), (Pieces{"we", "'ll", " they", "'ve"}));
  EXPECT_EQ(split("a  b"), (Pieces{"a", " ", " b"}));  // \s+(?!\S) leaves one space to the word
  EXPECT_EQ(split("a   \n\nb"), (Pieces{"a", "   \n", "\n", "b"}));
  EXPECT_EQ(split("end  "), (Pieces{"end", "  "}));
  EXPECT_EQ(split("x 123 4.5"), (Pieces{"x", " 123", " 4", ".", "5"}));
  EXPECT_EQ(split("hi!!! ?"), (Pieces{"hi", "!!!", " ?"}));
  EXPECT_EQ(split("\xCE\xB1\xCE\xB2 \xE6\x97\xA5"), (Pieces{"\xCE\xB1\xCE\xB2", " \xE6\x97\xA5"}));
  EXPECT_EQ(split(""), Pieces{});
}

TEST(TokenizerPreTokenize, WhitespaceIsTheWhiteSpaceProperty) {
  // U+0085 and U+3000 are White_Space (Oniguruma's \s); U+200B and U+FEFF are not.
  EXPECT_EQ(split("a\xC2\x85" "b"), (Pieces{"a", "\xC2\x85", "b"}));
  EXPECT_EQ(split("a\xE3\x80\x80" "b"), (Pieces{"a", "\xE3\x80\x80", "b"}));
  EXPECT_EQ(split("a \xE2\x80\x8B" "b"), (Pieces{"a", " \xE2\x80\x8B", "b"}));
  EXPECT_EQ(split("\xEF\xBB\xBFx"), (Pieces{"\xEF\xBB\xBF", "x"}));
  // U+001C..U+001F are not White_Space (although Python's str.isspace() says they are).
  EXPECT_EQ(split("a \x1c"), (Pieces{"a", " \x1c"}));
}

TEST(TokenizerAddedVocabulary, MatchesLeftmostLongest) {
  std::vector<AddedToken> toks = {{"  ", 10, false, true}, {"   ", 11, false, true},
                                  {"<|e|>", 12, true, false}};
  const AddedVocabulary av(toks, bentov::Normalizer{});
  std::vector<AddedVocabulary::Piece> raw;
  av.split_raw("a<|e|>b<|e", raw);
  ASSERT_EQ(raw.size(), 3u);
  EXPECT_EQ(raw[1].id, 12);
  EXPECT_EQ(raw[2].text, "b<|e");
  std::vector<AddedVocabulary::Piece> norm;
  av.split_normalized("x     y", norm);  // five spaces: "   " then "  "
  ASSERT_EQ(norm.size(), 4u);
  EXPECT_EQ(norm[1].id, 11);
  EXPECT_EQ(norm[2].id, 10);
  EXPECT_EQ(norm[3].text, "y");
}

TEST(TokenizerAddedVocabulary, HonoursStripAndSingleWord) {
  AddedToken mask{"<mask>", 5, true, false, /*lstrip=*/true, /*rstrip=*/true, false};
  AddedToken word{"ony", 6, false, false, false, false, /*single_word=*/true};
  const AddedVocabulary av({mask, word}, bentov::Normalizer{});
  std::vector<AddedVocabulary::Piece> out;
  av.split_raw("Hi  <mask> there ony Anthony", out);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].text, "Hi");
  EXPECT_EQ(out[1].text, "  <mask> ");
  EXPECT_EQ(out[2].text, "there ");
  EXPECT_EQ(out[3].id, 6);
  EXPECT_EQ(out[4].text, " Anthony");  // "ony" inside a word is not matched
}

// A toy byte-level vocabulary: single letters plus merged tokens.
bentov::Vocab toy_vocab() {
  return {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}, {"aa", 6}};
}

std::vector<std::int32_t> bpe(const BpeModel& m, std::string_view word) {
  std::vector<std::int32_t> out;
  m.encode_word(word, out);
  return out;
}

TEST(TokenizerBpe, AppliesMergesByRank) {
  const BpeModel first_ab(toy_vocab(), {{"a", "b"}, {"ab", "c"}, {"b", "c"}});
  EXPECT_EQ(bpe(first_ab, "abc"), (std::vector<std::int32_t>{5}));
  const BpeModel first_bc(toy_vocab(), {{"b", "c"}, {"a", "b"}, {"ab", "c"}});
  EXPECT_EQ(bpe(first_bc, "abc"), (std::vector<std::int32_t>{0, 4}));
  // Equal ranks: the leftmost pair first, so "aaa" is "aa" + "a".
  const BpeModel aa(toy_vocab(), {{"a", "a"}});
  EXPECT_EQ(bpe(aa, "aaa"), (std::vector<std::int32_t>{6, 0}));
  EXPECT_EQ(bpe(aa, "aaaa"), (std::vector<std::int32_t>{6, 6}));
  EXPECT_EQ(bpe(aa, "aaaa"), (std::vector<std::int32_t>{6, 6}));  // from the cache
}

TEST(TokenizerBpe, RejectsMergesOfUnknownTokens) {
  try {
    const BpeModel m(toy_vocab(), {{"a", "b"}, {"x", "c"}}, {}, "merges.txt");
    FAIL() << "expected a FormatError";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kFormat);
    EXPECT_NE(std::string(e.what()).find("merge 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not in the vocabulary"), std::string::npos) << e.what();
  }
  // The merged token must exist too.
  EXPECT_THROW(BpeModel(toy_vocab(), {{"c", "a"}}), bentov::Error);
}

TEST(TokenizerBpe, CacheAgreesWithUncachedMerge) {
  const BpeModel m(toy_vocab(), {{"a", "a"}, {"b", "c"}, {"a", "b"}, {"ab", "c"}});
  for (const std::string w : {"abcabc", "aabca", "cba", "a", "abababab"}) {
    std::vector<std::int32_t> ref;
    m.encode_word_uncached(w, ref);
    EXPECT_EQ(bpe(m, w), ref) << w;
    EXPECT_EQ(bpe(m, w), ref) << w;
  }
}

}  // namespace
