// Where a forward pass runs: the CPU backend or an NVIDIA GPU through the CUDA backend
// (`--device cpu|cuda|cuda:N|auto`). Compiled with or without the CUDA toolkit: without it,
// asking for a GPU is a clean UnsupportedError.
#pragma once

#include <string>
#include <string_view>

namespace bentov {

struct Device {
  enum class Kind { kCpu, kCuda, kAuto };
  Kind kind = Kind::kCpu;
  int index = 0;  // the GPU, for kCuda

  bool is_cuda() const { return kind == Kind::kCuda; }
  std::string name() const;  // "cpu", "cuda:0", "auto"
  bool operator==(const Device&) const = default;
};

// "cpu", "cuda" (= cuda:0), "cuda:N", "auto"; anything else is a UsageError.
Device parse_device(std::string_view text);

// kAuto -> cuda:0 when a GPU is usable, else cpu. kCuda -> checked: throws UnsupportedError
// (one line and a hint) when this bentov was built without CUDA, no GPU or driver is found, the
// driver is too old, or index names no GPU. kCpu as is.
Device resolve_device(const Device& requested);

// Built with the CUDA backend (BENTOV_CUDA)?
bool cuda_compiled();
// Usable GPUs; 0 without the CUDA backend, a GPU or a working driver (never throws).
int cuda_device_count();

}  // namespace bentov
