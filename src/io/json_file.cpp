#include "bentov/io/json_file.h"

#include <fstream>
#include <system_error>

#include "bentov/error.h"

namespace bentov::io {
namespace fs = std::filesystem;

std::string read_file_bytes(const fs::path& path, std::size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw IoError("'" + path.string() + "' does not exist or is not a file",
                  "check the path; model folders hold config.json and weights");
  }
  const auto size = fs::file_size(path, ec);
  if (ec) throw IoError("cannot stat '" + path.string() + "': " + ec.message(),
                             "check that the file is readable by this user");
  if (size > max_bytes) {
    throw FormatError("'" + path.string() + "' is " + std::to_string(size) + " bytes (limit " +
                          std::to_string(max_bytes) + ")",
                      "the file is not what bentov expects here");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read '" + path.string() + "'", "check its permissions");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::size_t>(in.gcount()) != size) {
    throw IoError("short read from '" + path.string() + "'", "was the file changed while reading?");
  }
  return bytes;
}

nlohmann::json read_json_file(const fs::path& path, std::size_t max_bytes) {
  const std::string text = read_file_bytes(path, max_bytes);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw FormatError("'" + path.string() + "' is not valid JSON (byte " + std::to_string(e.byte) +
                          ")",
                      "the file is corrupt or truncated; re-download it");
  } catch (const nlohmann::json::exception&) {
    // Not only parse_error: a number too large for a double (1e999) is out_of_range.406.
    throw FormatError("'" + path.string() + "' is not valid JSON (a number out of range)",
                      "the file is corrupt or truncated; re-download it");
  }
}

}  // namespace bentov::io
