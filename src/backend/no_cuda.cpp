// The CUDA runtime's entry points in a build without the CUDA toolkit (BENTOV_CUDA off).
#include "cuda/runtime.h"

namespace bentov::cuda {

bool runtime_compiled() { return false; }

int runtime_device_count(std::string* why) {
  if (why) *why = "built without CUDA";
  return 0;
}

}  // namespace bentov::cuda
