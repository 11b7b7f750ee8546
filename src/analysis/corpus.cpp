#include "bentov/analysis/corpus.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "bentov/error.h"
#include "bentov/io/json_file.h"

namespace bentov::analysis {
namespace {

constexpr std::size_t kMaxCorpusBytes = std::size_t{4} << 30;  // 4 GiB

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

bool has_jsonl_extension(const std::string& name) {
  std::string ext = std::filesystem::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jsonl" || ext == ".ndjson";
}

// Lines without their terminator ("\n", with a "\r" before it removed); a final line
// without "\n" counts, an empty tail after the last "\n" does not.
std::vector<std::string_view> split_lines(std::string_view bytes) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) nl = bytes.size();
    std::string_view line = bytes.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl + 1;
  }
  return lines;
}

bool looks_like_json_object(std::string_view line) {
  const auto first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos || line[first] != '{') return false;
  const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  return j.is_object();
}

std::string first_line_of(const std::string& what) {
  const auto nl = what.find('\n');
  return nl == std::string::npos ? what : what.substr(0, nl);
}

}  // namespace

Corpus parse_corpus(std::string_view bytes, const std::string& name, std::size_t max_texts) {
  Corpus c;
  c.file = name;
  const auto lines = split_lines(bytes);
  c.jsonl = has_jsonl_extension(name);
  if (!c.jsonl) {
    const auto first = std::find_if(lines.begin(), lines.end(),
                                    [](std::string_view l) { return !blank(l); });
    c.jsonl = first != lines.end() && looks_like_json_object(*first);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const int number = static_cast<int>(i + 1);
    if (blank(line)) {
      ++c.n_blank;
      continue;
    }
    if (max_texts > 0 && c.texts.size() >= max_texts) {
      c.limited = true;
      break;
    }
    if (!c.jsonl) {
      c.texts.push_back({number, std::string(line)});
      continue;
    }
    const std::string where = name + ":" + std::to_string(number);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(where + ": invalid JSON: " + first_line_of(e.what()),
                        "each line of a JSON Lines corpus is one object like {\"text\": \"...\"}");
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
      throw FormatError(where + ": expected an object with a string \"text\" field",
                        "each line of a JSON Lines corpus is one object like {\"text\": \"...\"}");
    }
    std::string text = j["text"].get<std::string>();
    if (blank(text)) {
      ++c.n_blank;
      continue;
    }
    c.texts.push_back({number, std::move(text)});
  }
  return c;
}

Corpus read_corpus(const std::filesystem::path& path, std::size_t max_texts) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw IoError("corpus '" + path.string() + "' does not exist or is not a file",
                  "--corpus takes a text file with one text per line, or JSON Lines with a \"text\" field");
  }
  const std::string bytes = io::read_file_bytes(path, kMaxCorpusBytes);
  return parse_corpus(bytes, path.string(), max_texts);
}

}  // namespace bentov::analysis
