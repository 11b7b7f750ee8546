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

// The output head's matrix and, where the file has one beside it, its bias.
struct OutputHead {
  const io::TensorInfo* weight = nullptr;  // [vocab, output dim]
  const io::TensorInfo* bias = nullptr;    // [vocab] or null
};

// The first of `head_names` (top level of the file) present, checked to be [vocab, output dim],
// with its ".bias" when present ([vocab]); else the token embedding when c.tie_word_embeddings
// (transformers ties them then); else a null weight.
OutputHead find_output_head(const io::TensorStore& store, const ModelConfig& c, const ModelWeights& w,
                            const std::vector<std::string>& head_names);

// -log softmax(logits_i)[ids[i + 1]] for i in [0, n - 1): (n - 1) values in nats, with
// logits_i = hidden_i W^T + b, soft-capped as cap * tanh(logits / cap) when softcap > 0
// (Gemma2ForCausalLM's final_logit_softcapping). hidden: (n, dim) row-major.
std::vector<double> next_token_nll(const OutputHead& head, std::span<const std::int32_t> ids,
                                   const std::vector<float>& hidden, int dim, float softcap, int threads);

}  // namespace bentov
