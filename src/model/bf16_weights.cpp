#include "bf16_weights.h"

#include <algorithm>
#include <stdexcept>

#include "bentov/ops/bf16_gemm.h"
#include "bentov/ops/parallel.h"

namespace bentov {

namespace {
std::size_t elements(const Linear& l) { return static_cast<std::size_t>(l.in) * static_cast<std::size_t>(l.out); }
}  // namespace

std::uint64_t Bf16Weights::bytes_for(const ModelWeights& weights) {
  std::uint64_t total = 0;
  for_each_linear(weights, [&](const Linear& l) {
    if (!l.weight.empty()) total += elements(l) * sizeof(std::uint16_t);
  });
  return total;
}

Bf16Weights::Bf16Weights(const ModelWeights& weights, int threads) {
  std::vector<const Linear*> linears;
  for_each_linear(weights, [&](const Linear& l) {
    if (!l.weight.empty()) linears.push_back(&l);
  });
  for (const Linear* l : linears) matrices_[l].resize(elements(*l));  // before the workers: the map stays put
  ops::parallel_for(static_cast<int>(linears.size()), threads, [&](int i, int) {
    const Linear& l = *linears[static_cast<std::size_t>(i)];
    std::vector<std::uint16_t>& out = matrices_.at(&l);
    constexpr std::size_t kChunk = 1 << 16;
    std::vector<float> floats(std::min(kChunk, out.size()));  // (chunk) the stored values as floats
    for (std::size_t begin = 0; begin < out.size(); begin += kChunk) {
      const std::size_t count = std::min(kChunk, out.size() - begin);
      l.weight.read(begin, count, floats.data());
      ops::round_to_bf16(floats.data(), out.data() + begin, count);
    }
  });
}

const std::uint16_t* Bf16Weights::of(const Linear& l) const {
  const auto it = matrices_.find(&l);
  if (it == matrices_.end()) throw std::logic_error("Bf16Weights: a matrix of another model");
  return it->second.data();
}

}  // namespace bentov
