// The observer of a pass over several texts packed side by side (Model::forward_packed): it
// hands each text's share of the row statistics to that text's own observer, as if the text had
// had a pass of its own. The texts' observers are called from several threads at once (each
// observer from one at a time), after the pass: at a layer's end, each text's share of its row
// statistics and then its end, in one round of the workers.
#pragma once

#include <span>
#include <vector>

#include "bentov/model/observer.h"

namespace bentov {

class PackedObserver final : public AttentionObserver {
 public:
  // Text k is rows [offset_k, offset_k + lengths[k]) of the pass, offset_k the sum of the lengths
  // before it; observers[k] (may be null) receives it.
  PackedObserver(std::span<const int> lengths, std::span<AttentionObserver* const> observers);

  bool any() const;  // whether some text has an observer
  void on_sequence(int n_layers, int n_heads, int n) override;
  void on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) override;
  bool wants_probabilities() const override { return false; }
  void on_row_statistics(int layer, int n_heads, int n, const HeadRowStats* heads, const LayerRowStats* rows) override;
  void on_layer_end(int layer) override;

 private:
  std::vector<int> lengths_, offsets_;
  std::vector<AttentionObserver*> observers_;
  std::vector<std::vector<HeadRowStats>> text_heads_;  // per worker: (n_heads, lengths[k]) a text's share
  // The layer's statistics, from on_row_statistics until its on_layer_end hands them out.
  struct Pending {
    int layer = -1, n_heads = 0, n = 0;
    const HeadRowStats* heads = nullptr;
    const LayerRowStats* rows = nullptr;
  };
  Pending pending_;
};

}  // namespace bentov
