// The projection matrices of a model rounded to bfloat16, for the CPU's `--dtype bf16`
// products (ops/bf16_gemm.h): each in the layout it is stored in, built once per Model by the
// first bf16 pass and shared by the copies of that Model.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "bentov/model/weights.h"

namespace bentov {

class Bf16Weights {
 public:
  // Rounds every matrix of for_each_linear(weights), with `threads` workers.
  Bf16Weights(const ModelWeights& weights, int threads);
  // The bytes such a copy takes.
  static std::uint64_t bytes_for(const ModelWeights& weights);

  // l.weight rounded to bf16: (out, in), or (in, out) when l.in_by_out.
  const std::uint16_t* of(const Linear& l) const;

 private:
  std::unordered_map<const Linear*, std::vector<std::uint16_t>> matrices_;
};

}  // namespace bentov
