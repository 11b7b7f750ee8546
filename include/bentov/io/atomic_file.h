// Writing outputs without ever leaving a half-written file: write a temporary file beside
// the target, flush it, then rename it over the target (rename is atomic on POSIX).
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string_view>

namespace bentov::io {

// Writes `bytes` to `path` atomically. Throws bentov::Error (kIo) with the path on failure.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Streams into a temporary file through `fill`, then renames it to `path`. If `fill` throws,
// the temporary file is removed and the exception propagates; `path` is untouched.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(std::ostream&)>& fill);

// Same, for tools that write the file themselves (gnuplot): `fill` receives the temporary
// path to write to and must leave a complete file there.
void write_file_atomic_via(const std::filesystem::path& path,
                           const std::function<void(const std::filesystem::path& tmp)>& fill);

}  // namespace bentov::io
