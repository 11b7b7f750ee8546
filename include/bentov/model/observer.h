// The one hook through which the decoder's attention probabilities leave the forward pass
// (DESIGN.md section 1): metric accumulators stream from it; a capture observer
// materializes it only for `bentov attention`.
#pragma once

#include <cstdint>
#include <stdexcept>

#include "bentov/backend/row_stats.h"

namespace bentov {

class AttentionObserver {
 public:
  virtual ~AttentionObserver() = default;

  // Called once per forward pass before any attention, with the sequence length n.
  virtual void on_sequence(int n_layers, int n_heads, int n) {
    (void)n_layers, (void)n_heads, (void)n;
  }

  // Query rows [r0, r1) of one head's attention probabilities for one layer.
  // rows: (r1 - r0, n) row-major, rows[(q - r0) * n + k]; causal, so entries with k > q are 0
  // and every row sums to 1 (the softmax output of transformers' eager attention).
  // For one layer the decoder delivers row blocks in increasing order: every head's rows
  // [r0, r1) (heads in any order, possibly from several threads at once: implementations
  // must be thread-safe per head) before any row of the next block. So no (n, n) matrix
  // needs to exist: memory stays linear in n.
  virtual void on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) = 0;

  // One head's whole (n, n) matrix: the block [0, n).
  void on_attention(int layer, int head, const float* probs, int n) {
    on_attention_rows(layer, head, 0, n, probs, n);
  }

  // Whether this observer needs the probabilities themselves (captures, dumps). When it does
  // not, a backend that reduces attention to row statistics on its device (the CUDA backend)
  // calls on_row_statistics instead of on_attention_rows, so probabilities never leave the GPU.
  virtual bool wants_probabilities() const { return true; }

  // Every query row of one layer as row statistics (row_stats.h): heads (n_heads, n) row-major,
  // rows (n). Called once per layer, before its on_layer_end, only when wants_probabilities()
  // is false. Both stay valid until the layer's on_layer_end returns.
  virtual void on_row_statistics(int layer, int n_heads, int n, const HeadRowStats* heads,
                                 const LayerRowStats* rows) {
    (void)layer, (void)n_heads, (void)n, (void)heads, (void)rows;
    throw std::logic_error("this observer takes attention probabilities, not row statistics");
  }

  // Called after all heads of `layer` were delivered, from the decoder's thread.
  virtual void on_layer_end(int layer) { (void)layer; }
};

}  // namespace bentov
