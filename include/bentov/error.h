// Typed errors of the bentov library. Every stage throws one of these with a one-line
// message and a hint; only tools/cli/main.cpp catches them, prints them and maps the kind
// to an exit code (DESIGN.md section 2).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace bentov {

enum class ErrorKind {
  kUsage,        // bad flags or arguments
  kIo,           // a file that cannot be opened, read or written
  kFormat,       // a malformed or hostile file (safetensors, JSON, tokenizer files)
  kConfig,       // a config.json that is missing keys or absurd
  kUnsupported,  // an architecture or dtype bentov does not handle
  kInput,        // bad text or ids: empty, one token, too many tokens, ids out of range
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {})
      : std::runtime_error(std::move(message)), kind_(kind), hint_(std::move(hint)) {}

  ErrorKind kind() const { return kind_; }
  const std::string& hint() const { return hint_; }

 private:
  ErrorKind kind_;
  std::string hint_;
};

inline Error UsageError(std::string m, std::string h = {}) {
  return {ErrorKind::kUsage, std::move(m), std::move(h)};
}
inline Error IoError(std::string m, std::string h = {}) {
  return {ErrorKind::kIo, std::move(m), std::move(h)};
}
inline Error FormatError(std::string m, std::string h = {}) {
  return {ErrorKind::kFormat, std::move(m), std::move(h)};
}
inline Error ConfigError(std::string m, std::string h = {}) {
  return {ErrorKind::kConfig, std::move(m), std::move(h)};
}
inline Error UnsupportedError(std::string m, std::string h = {}) {
  return {ErrorKind::kUnsupported, std::move(m), std::move(h)};
}
inline Error InputError(std::string m, std::string h = {}) {
  return {ErrorKind::kInput, std::move(m), std::move(h)};
}

// Re-throws `e` with `context` prefixed to its message ("loading /m: tensor 'x' ...").
[[noreturn]] inline void rethrow_with_context(const Error& e, const std::string& context) {
  throw Error(e.kind(), context + ": " + e.what(), e.hint());
}

}  // namespace bentov
