// What both decoders (CPU and CUDA) compute on the host before the layers: the rows of the
// token embedding for the input ids, the learned position rows, and the rotary tables, each as
// transformers computes it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bentov/model/config.h"
#include "bentov/model/weights.h"

namespace bentov {

// (n, word_embed_dim): the embedding rows of `ids`, widened from the stored dtype (only those
// rows are touched), times the config's embedding_scale.
std::vector<float> token_rows(const ModelConfig& c, const ModelWeights& w, std::span<const std::int32_t> ids);

// cos / sin (n, rotary_dims / 2) of positions 0 .. n-1 for the config's schedule.
void rotary_tables(const ModelConfig& c, int n, float* cos_out, float* sin_out);

}  // namespace bentov
