// Reading JSON files (config.json, indexes, tokenizer files) with a size bound and errors
// that name the file.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace bentov::io {

inline constexpr std::size_t kMaxJsonBytes = 64u << 20;  // tokenizer.json is ~2-3 MB

// Reads and parses `path`; throws IoError (missing/unreadable) or FormatError (too large,
// invalid JSON) naming the file.
nlohmann::json read_json_file(const std::filesystem::path& path,
                              std::size_t max_bytes = kMaxJsonBytes);

// Reads a whole file as bytes, bounded by max_bytes.
std::string read_file_bytes(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace bentov::io
