// Reading a corpus for `analyze --corpus F`: one text per line, or JSON Lines with a "text"
// field. Blank lines are skipped (and counted) in both formats.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bentov::analysis {

struct CorpusText {
  int line = 0;      // 1-based line number in the file
  std::string text;  // the line without its "\n" / "\r\n", or the JSON "text" value
};

struct Corpus {
  std::string file;                // as given
  bool jsonl = false;              // read as JSON Lines
  std::vector<CorpusText> texts;   // in file order
  int n_blank = 0;                 // blank (empty or whitespace-only) lines skipped
  bool limited = false;            // stopped at max_texts with more lines left
};

// The format: JSON Lines when the name ends in .jsonl or .ndjson, or when the first
// non-blank line starts with '{' (after spaces) and parses as a JSON object; else plain
// lines. In JSON Lines every non-blank line must be an object with a string "text", or
// FormatError names the file and the line ("corpus.jsonl:7: invalid JSON: ...").
// max_texts > 0 keeps the first max_texts texts. Invalid UTF-8 is passed through (the
// tokenizer decides). Throws IoError when the file cannot be read.
Corpus read_corpus(const std::filesystem::path& path, std::size_t max_texts = 0);

// The same on bytes already read; `name` is used in messages and for the extension rule.
Corpus parse_corpus(std::string_view bytes, const std::string& name, std::size_t max_texts = 0);

}  // namespace bentov::analysis
