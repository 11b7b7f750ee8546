// The one hook through which the decoder's attention probabilities leave the forward pass
// (DESIGN.md section 1): metric accumulators stream from it; a capture observer
// materializes it only for `bentov attention`.
#pragma once

#include <cstdint>

namespace bentov {

class AttentionObserver {
 public:
  virtual ~AttentionObserver() = default;

  // Called once per forward pass before any attention, with the sequence length n.
  virtual void on_sequence(int n_layers, int n_heads, int n) {
    (void)n_layers, (void)n_heads, (void)n;
  }

  // One head's attention probabilities for one layer.
  // probs: (n, n) row-major, probs[q * n + k]; causal, so entries with k > q are 0 and
  // every row sums to 1 (the softmax output of transformers' eager attention).
  // Calls for one layer come for heads 0..n_heads-1 (possibly from several threads when
  // the decoder parallelizes over heads: implementations must be thread-safe per head).
  virtual void on_attention(int layer, int head, const float* probs, int n) = 0;

  // Called after all heads of `layer` were delivered, from the decoder's thread.
  virtual void on_layer_end(int layer) { (void)layer; }
};

}  // namespace bentov
