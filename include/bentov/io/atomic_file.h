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

// Temporary files of unfinished outputs, removed if the process is interrupted. The first
// registration installs handlers for SIGINT, SIGTERM and SIGHUP (only where the signal still
// has its default action, so a program's own handlers are left alone) that unlink every
// registered path and then re-raise the signal with its default action: Ctrl-C or a kill
// during a long run leaves neither a half-written output nor a stray temporary behind. Up to
// 64 paths at once; the atomic writers above and SafetensorsWriter register theirs.
void register_temporary(const std::filesystem::path& tmp);
void unregister_temporary(const std::filesystem::path& tmp);

}  // namespace bentov::io
