// Helpers shared by the libFuzzer targets: a private scratch folder (in /dev/shm when present,
// so writing a file per input stays cheap) removed at exit, and splitting one input into the
// several files a loader reads.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace bentov::fuzz {

inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = base + "/bentov_fuzz_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return std::filesystem::path(tmpl);
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Empties the scratch folder (files of the previous input must not leak into this one).
inline void clear_scratch() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(scratch_dir(), ec)) {
    std::filesystem::remove_all(e.path(), ec);
  }
}

// Splits `data` at every line "\n====\n" (the separator the seed corpora use).
inline std::vector<std::string_view> split_parts(std::string_view data) {
  static constexpr std::string_view kSep = "\n====\n";
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  while (true) {
    const auto at = data.find(kSep, pos);
    if (at == std::string_view::npos) {
      parts.push_back(data.substr(pos));
      return parts;
    }
    parts.push_back(data.substr(pos, at - pos));
    pos = at + kSep.size();
  }
}

}  // namespace bentov::fuzz
