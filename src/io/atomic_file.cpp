#include "bentov/io/atomic_file.h"

#include <unistd.h>

#include <fstream>
#include <random>
#include <system_error>

#include "bentov/error.h"

namespace bentov::io {
namespace fs = std::filesystem;

namespace {

// A sibling of `target` that no other writer picks: ".name.tmp-<pid>-<random>".
fs::path temporary_sibling(const fs::path& target) {
  std::random_device rd;
  auto name = "." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
              std::to_string(rd());
  return target.parent_path() / name;
}

void ensure_parent(const fs::path& path) {
  auto parent = path.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    throw IoError("cannot create directory '" + parent.string() + "': " + ec.message(),
                  "check the output path and its permissions");
  }
}

void commit(const fs::path& tmp, const fs::path& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw IoError("cannot write '" + path.string() + "': " + ec.message(),
                  "check the output path and its permissions");
  }
}

}  // namespace

void write_file_atomic_via(const fs::path& path,
                           const std::function<void(const fs::path& tmp)>& fill) {
  ensure_parent(path);
  const fs::path tmp = temporary_sibling(path);
  try {
    fill(tmp);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  commit(tmp, path);
}

void write_file_atomic(const fs::path& path, const std::function<void(std::ostream&)>& fill) {
  write_file_atomic_via(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw IoError("cannot open '" + tmp.string() + "' for writing",
                    "check that the output folder exists and is writable");
    }
    fill(out);
    out.flush();
    if (!out) throw IoError("write to '" + path.string() + "' failed", "is the disk full?");
  });
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  });
}

}  // namespace bentov::io
