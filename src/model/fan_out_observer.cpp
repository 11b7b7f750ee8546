#include "bentov/model/fan_out_observer.h"

#include <algorithm>
#include <utility>

namespace bentov {

FanOutObserver::FanOutObserver(std::vector<AttentionObserver*> children) : children_(std::move(children)) {
  std::erase(children_, nullptr);
}

void FanOutObserver::on_sequence(int n_layers, int n_heads, int n) {
  for (auto* c : children_) c->on_sequence(n_layers, n_heads, n);
}

void FanOutObserver::on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) {
  for (auto* c : children_) c->on_attention_rows(layer, head, r0, r1, rows, n);
}

bool FanOutObserver::wants_probabilities() const {
  return std::any_of(children_.begin(), children_.end(), [](const auto* c) { return c->wants_probabilities(); });
}

void FanOutObserver::on_row_statistics(int layer, int n_heads, int n, const HeadRowStats* heads,
                                       const LayerRowStats* rows) {
  for (auto* c : children_) c->on_row_statistics(layer, n_heads, n, heads, rows);
}

void FanOutObserver::on_layer_end(int layer) {
  for (auto* c : children_) c->on_layer_end(layer);
}

}  // namespace bentov
