// A model's weights uploaded to a GPU, and the forward pass there: the CUDA backend's decoder
// (src/model/cuda/cuda_model.cpp), or without CUDA its stand-in that refuses (no_cuda_model.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bentov/backend/device.h"
#include "bentov/model/config.h"
#include "bentov/model/observer.h"
#include "bentov/model/weights.h"

namespace bentov {

class DeviceModel {
 public:
  virtual ~DeviceModel() = default;
  // The last hidden state (n, out_dim) on the host of texts packed side by side: ids holds
  // lengths[k] ids of text k after the texts before it, n their sum, and no text attends to
  // another. Attention goes to the observer as the CPU decoder delivers it (observer.h) for one
  // text, or as row statistics of all n rows when it wants no probabilities.
  // With `hidden` false the result is empty and nothing is copied back.
  virtual std::vector<float> forward(std::span<const std::int32_t> ids, std::span<const int> lengths,
                                     AttentionObserver* observer, bool hidden) const = 0;
  // Whether a pass over `rows` packed rows fits in the device's free memory now.
  virtual bool fits(int rows, bool statistics) const = 0;
};

// Uploads every weight after checking that they fit in the GPU's free memory; throws
// UnsupportedError with a hint otherwise. For fp32 compute fp16/bf16 matrices are widened on the
// GPU; for bf16/fp16 compute the matrices are kept (or rounded to) that type, norms, biases and
// positions in float32. The result keeps `weights` (the embedding rows are read from the host map).
std::unique_ptr<DeviceModel> upload_to_cuda(const ModelConfig& config, std::shared_ptr<const ModelWeights> weights,
                                            int device, const std::string& model_name, ComputeDtype dtype);

}  // namespace bentov
