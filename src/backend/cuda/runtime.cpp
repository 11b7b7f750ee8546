#include "runtime.h"

#include <cuda_runtime.h>

namespace bentov::cuda {

bool runtime_compiled() { return true; }

int runtime_device_count(std::string* why) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    if (why) *why = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    cudaGetLastError();  // clear the sticky error
    return 0;
  }
  if (count == 0 && why) *why = "cudaGetDeviceCount found none";
  return count;
}

}  // namespace bentov::cuda
