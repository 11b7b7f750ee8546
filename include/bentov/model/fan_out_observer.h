// One forward pass, several consumers: forwards every call of the observer interface to each
// child in order (the metrics and, for the HTML report, a pattern capture).
#pragma once

#include <vector>

#include "bentov/model/observer.h"

namespace bentov {

class FanOutObserver : public AttentionObserver {
 public:
  // Null children are skipped; the children outlive this observer.
  explicit FanOutObserver(std::vector<AttentionObserver*> children);

  void on_sequence(int n_layers, int n_heads, int n) override;
  // Thread-safe as far as every child is (observer.h asks that of each).
  void on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) override;
  // True when any child needs the probabilities: then every child gets rows (a child that
  // would rather take row statistics, SignatureObserver, reduces the rows itself).
  bool wants_probabilities() const override;
  void on_row_statistics(int layer, int n_heads, int n, const HeadRowStats* heads,
                         const LayerRowStats* rows) override;
  void on_layer_end(int layer) override;

 private:
  std::vector<AttentionObserver*> children_;
};

}  // namespace bentov
