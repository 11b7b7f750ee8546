// What the rest of bentov asks of the CUDA runtime, defined by runtime.cpp in a CUDA build and
// by no_cuda.cpp otherwise.
#pragma once

#include <string>

namespace bentov::cuda {

bool runtime_compiled();
// Usable GPUs; 0 (with the reason in *why when given) without a GPU or a working driver.
int runtime_device_count(std::string* why);

}  // namespace bentov::cuda
