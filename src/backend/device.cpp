#include "bentov/backend/device.h"

#include <charconv>
#include <cstdlib>
#include <string>

#include "bentov/error.h"
#include "bentov/ops/bf16_gemm.h"
#include "cuda/runtime.h"

namespace bentov {

std::string Device::name() const {
  switch (kind) {
    case Kind::kCpu: return "cpu";
    case Kind::kAuto: return "auto";
    case Kind::kCuda: return index == kThisProcess ? "cuda" : "cuda:" + std::to_string(index);
  }
  return "?";
}

Device parse_device(std::string_view text) {
  if (text == "cpu") return {Device::Kind::kCpu, 0};
  if (text == "auto") return {Device::Kind::kAuto, 0};
  if (text == "cuda") return {Device::Kind::kCuda, Device::kThisProcess};
  if (text.starts_with("cuda:")) {
    const std::string_view digits = text.substr(5);
    int index = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() && index >= 0) {
      return {Device::Kind::kCuda, index};
    }
  }
  throw UsageError("unknown device '" + std::string(text) + "'", "use --device cpu, cuda, cuda:N or auto");
}

ComputeDtype parse_compute_dtype(std::string_view text) {
  if (text == "fp32") return ComputeDtype::kFloat32;
  if (text == "bf16") return ComputeDtype::kBFloat16;
  if (text == "fp16") return ComputeDtype::kFloat16;
  throw UsageError("unknown dtype '" + std::string(text) + "'", "use --dtype fp32, bf16 or fp16");
}

std::string compute_dtype_name(ComputeDtype d) {
  switch (d) {
    case ComputeDtype::kFloat32: return "fp32";
    case ComputeDtype::kBFloat16: return "bf16";
    case ComputeDtype::kFloat16: return "fp16";
  }
  return "?";
}

void check_compute_dtype(const Device& resolved, ComputeDtype d) {
  if (d == ComputeDtype::kFloat32 || resolved.is_cuda()) return;
  if (d == ComputeDtype::kFloat16) {
    throw UsageError("--dtype fp16 computes on a GPU, and this run is on the CPU",
                     "use --dtype bf16 on the CPU, add --device cuda, or leave --dtype at fp32 (the exact mode)");
  }
  if (!ops::bf16_products_compiled()) {
    throw UnsupportedError("--dtype bf16 on the CPU needs oneDNN, and this bentov was built without it",
                           "install libdnnl-dev (scripts/install-deps.sh) and rebuild, or leave --dtype at fp32");
  }
}

bool cuda_compiled() { return cuda::runtime_compiled(); }

int cuda_device_count() { return cuda::runtime_device_count(nullptr); }

int gpu_of_local_rank(int count) {
  if (count < 1) return 0;
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID"}) {
    const char* value = std::getenv(name);
    if (!value || !*value) continue;
    int rank = -1;
    const std::string_view v(value);
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), rank);
    if (ec == std::errc() && end == v.data() + v.size() && rank >= 0) return rank % count;
  }
  return 0;
}

Device resolve_device(const Device& requested) {
  if (requested.kind == Device::Kind::kCpu) return requested;
  std::string why;
  const int count = cuda::runtime_device_count(&why);
  if (requested.kind == Device::Kind::kAuto) {
    return count > 0 ? Device{Device::Kind::kCuda, gpu_of_local_rank(count)} : Device{Device::Kind::kCpu, 0};
  }
  if (!cuda::runtime_compiled()) {
    throw UnsupportedError("this bentov was built without the CUDA backend",
                           "rebuild with the CUDA toolkit installed (cmake -DBENTOV_CUDA=ON), or use --device cpu");
  }
  if (count == 0) {
    throw UnsupportedError("no CUDA GPU found (" + why + ")",
                           "run on a machine with an NVIDIA GPU and driver, or use --device cpu");
  }
  if (requested.index == Device::kThisProcess) return {Device::Kind::kCuda, gpu_of_local_rank(count)};
  if (requested.index >= count) {
    throw UnsupportedError("--device " + requested.name() + ": this machine has " + std::to_string(count) +
                               " CUDA GPU(s)",
                           "use cuda:0 .. cuda:" + std::to_string(count - 1) + ", or --device cpu");
  }
  return requested;
}

}  // namespace bentov
