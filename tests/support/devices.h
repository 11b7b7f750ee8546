// The backends a numeric test runs on: the CPU always, each CUDA GPU when one is usable (the
// CUDA instances skip, saying so, on a machine without a GPU or without the CUDA backend).
#pragma once

#include <cctype>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "bentov/backend/device.h"

namespace bentov {
// gtest and CTest name a parameter by this instead of its bytes.
inline void PrintTo(const Device& d, std::ostream* os) { *os << d.name(); }
}  // namespace bentov

namespace bentov::testing {

inline std::vector<Device> test_devices() { return {Device{Device::Kind::kCpu, 0}, Device{Device::Kind::kCuda, 0}}; }

// In a test body: skips a CUDA instance when no GPU can be used.
#define BENTOV_SKIP_WITHOUT(device)                                                                \
  do {                                                                                             \
    if ((device).is_cuda() && ::bentov::cuda_device_count() == 0) {                                \
      GTEST_SKIP() << "no CUDA GPU found" << (::bentov::cuda_compiled() ? "" : " (built without CUDA)"); \
    }                                                                                              \
  } while (0)

inline std::string device_suffix(const Device& d) { return d.is_cuda() ? "_cuda" : ""; }

// A gtest name for a (case, device) parameter: the case's `name` with every character that is
// not a letter or digit made '_', then the device suffix.
template <typename Info>
std::string case_on_device_name(const Info& info) {
  std::string n = std::get<0>(info.param).name;
  for (auto& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n + device_suffix(std::get<1>(info.param));
}

}  // namespace bentov::testing
