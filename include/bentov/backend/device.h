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
  static constexpr int kThisProcess = -1;  // "cuda": the GPU of this process's local rank
  int index = 0;  // the GPU, for kCuda (kThisProcess until resolved)

  bool is_cuda() const { return kind == Kind::kCuda; }
  std::string name() const;  // "cpu", "cuda:0", "cuda" (unresolved), "auto"
  bool operator==(const Device&) const = default;
};

// The arithmetic of a forward pass (--dtype): float32 throughout (the exact mode, every
// backend), or on a GPU bfloat16 / half products on tensor cores with float32 accumulation,
// softmax and statistics in float32 and double.
enum class ComputeDtype { kFloat32, kBFloat16, kFloat16 };

// "fp32", "bf16", "fp16"; anything else is a UsageError.
ComputeDtype parse_compute_dtype(std::string_view text);
std::string compute_dtype_name(ComputeDtype d);
// bf16 / fp16 compute needs a GPU: throws UsageError for them on the CPU.
void check_compute_dtype(const Device& resolved, ComputeDtype d);

// "cpu", "cuda" (this process's GPU), "cuda:N", "auto"; anything else is a UsageError.
Device parse_device(std::string_view text);

// The GPU of this process among `count`: under mpirun or srun every rank of a node takes the
// GPU of its local rank (OMPI_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID or MPI_LOCALRANKID), modulo
// count, so a node with 8 GPUs runs 8 ranks on 8 GPUs; 0 outside them.
int gpu_of_local_rank(int count);

// kAuto -> this process's GPU when one is usable, else cpu. kCuda -> checked (cuda: this
// process's GPU): throws UnsupportedError (one line and a hint) when this bentov was built
// without CUDA, no GPU or driver is found, the driver is too old, or index names no GPU. kCpu
// as is.
Device resolve_device(const Device& requested);

// Built with the CUDA backend (BENTOV_CUDA)?
bool cuda_compiled();
// Usable GPUs; 0 without the CUDA backend, a GPU or a working driver (never throws).
int cuda_device_count();

}  // namespace bentov
