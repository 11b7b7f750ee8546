// The *ForCausalLM output head: finding its tensor, and the next-token loss through it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bentov/io/safetensors.h"
#include "bentov/model/config.h"
#include "bentov/model/weights.h"

namespace bentov {

// The first of `head_names` (top level of the file) present, checked to be [vocab, output dim];
// else the token embedding when c.tie_word_embeddings (transformers ties them then); else null.
const io::TensorInfo* find_output_head(const io::TensorStore& store, const ModelConfig& c, const ModelWeights& w,
                                       const std::vector<std::string>& head_names);

// -log softmax(hidden_i W^T)[ids[i + 1]] for i in [0, n - 1): (n - 1) values in nats.
// head: [vocab, dim]; hidden: (n, dim) row-major.
std::vector<double> next_token_nll(const io::TensorInfo& head, std::span<const std::int32_t> ids,
                                   const std::vector<float>& hidden, int dim, int threads);

}  // namespace bentov
