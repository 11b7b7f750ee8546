// Reading a corpus: plain lines, JSON Lines, blank lines, limits, and errors that name the line.
#include "bentov/analysis/corpus.h"

#include <gtest/gtest.h>

#include "bentov/error.h"

namespace {

using bentov::analysis::parse_corpus;
using bentov::analysis::read_corpus;

TEST(CorpusReader, PlainLinesSkipBlanks) {
  const auto c = parse_corpus("first text\r\n\n   \nsecond {text}\nthird", "c.txt");
  EXPECT_FALSE(c.jsonl);
  ASSERT_EQ(c.texts.size(), 3u);
  EXPECT_EQ(c.texts[0].text, "first text");  // \r\n stripped
  EXPECT_EQ(c.texts[1].text, "second {text}");
  EXPECT_EQ(c.texts[1].line, 4);
  EXPECT_EQ(c.texts[2].text, "third");  // no final newline
  EXPECT_EQ(c.n_blank, 2);
}

TEST(CorpusReader, JsonLinesByExtensionOrContent) {
  const std::string bytes = "{\"text\": \"a b\", \"id\": 1}\n\n{\"text\": \"caf\\u00e9\"}\n";
  for (const std::string name : {"c.jsonl", "c.txt"}) {
    const auto c = parse_corpus(bytes, name);
    EXPECT_TRUE(c.jsonl) << name;
    ASSERT_EQ(c.texts.size(), 2u);
    EXPECT_EQ(c.texts[0].text, "a b");
    EXPECT_EQ(c.texts[1].text, "caf\xc3\xa9");
    EXPECT_EQ(c.texts[1].line, 3);
    EXPECT_EQ(c.n_blank, 1);
  }
  // A plain text that merely starts with '{' stays plain.
  EXPECT_FALSE(parse_corpus("{not json\nline two\n", "c.txt").jsonl);
}

TEST(CorpusReader, MaxTexts) {
  const auto c = parse_corpus("a\nb\n\nc\nd\n", "c.txt", 2);
  ASSERT_EQ(c.texts.size(), 2u);
  EXPECT_TRUE(c.limited);
  EXPECT_FALSE(parse_corpus("a\nb\n", "c.txt", 2).limited);
}

TEST(CorpusReader, InvalidJsonLineNamesTheLine) {
  try {
    parse_corpus("{\"text\": \"ok\"}\n{\"text\": \"ok too\"}\n{\"text\": \"broken\n", "data.jsonl");
    FAIL() << "expected an error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kFormat);
    EXPECT_NE(std::string(e.what()).find("data.jsonl:3: invalid JSON"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(CorpusReader, JsonLineWithoutTextNamesTheLine) {
  for (const char* bad : {"{\"txt\": \"x\"}", "[\"x\"]", "{\"text\": 3}"}) {
    try {
      parse_corpus(std::string("{\"text\": \"ok\"}\n") + bad + "\n", "d.jsonl");
      FAIL() << "expected an error for " << bad;
    } catch (const bentov::Error& e) {
      EXPECT_NE(std::string(e.what()).find("d.jsonl:2: expected an object with a string \"text\""),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(CorpusReader, Files) {
  const std::string dir = std::string(BENTOV_TEST_DATA_DIR) + "/corpus/";
  const auto lines = read_corpus(dir + "sentences.txt");
  EXPECT_EQ(lines.texts.size(), 12u);
  EXPECT_EQ(lines.n_blank, 2);
  const auto jsonl = read_corpus(dir + "sentences.jsonl");
  EXPECT_TRUE(jsonl.jsonl);
  EXPECT_EQ(jsonl.texts.size(), 5u);
  EXPECT_THROW(read_corpus(dir + "invalid.jsonl"), bentov::Error);
  try {
    read_corpus(dir + "missing.txt");
    FAIL();
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kIo);
  }
}

}  // namespace
