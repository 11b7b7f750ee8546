#include "packed_observer.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace bentov {

PackedObserver::PackedObserver(std::span<const int> lengths, std::span<AttentionObserver* const> observers)
    : lengths_(lengths.begin(), lengths.end()),
      offsets_(lengths.size()),
      observers_(observers.begin(), observers.end()) {
  if (lengths_.size() != observers_.size()) throw std::logic_error("one observer (or null) per packed text");
  std::exclusive_scan(lengths_.begin(), lengths_.end(), offsets_.begin(), 0);
}

bool PackedObserver::any() const {
  return std::any_of(observers_.begin(), observers_.end(), [](const AttentionObserver* o) { return o != nullptr; });
}

void PackedObserver::on_sequence(int n_layers, int n_heads, int n) {
  (void)n;
  for (std::size_t k = 0; k < observers_.size(); ++k) {
    if (observers_[k]) observers_[k]->on_sequence(n_layers, n_heads, lengths_[k]);
  }
}

void PackedObserver::on_attention_rows(int, int, int, int, const float*, int) {
  throw std::logic_error("a packed pass delivers row statistics, not probabilities");
}

// heads: (n_heads, n) of the whole pass; text k gets its columns [offset_k, offset_k + length_k).
void PackedObserver::on_row_statistics(int layer, int n_heads, int n, const HeadRowStats* heads,
                                       const LayerRowStats* rows) {
  for (std::size_t k = 0; k < observers_.size(); ++k) {
    if (!observers_[k]) continue;
    const auto length = static_cast<std::size_t>(lengths_[k]), offset = static_cast<std::size_t>(offsets_[k]);
    text_heads_.resize(static_cast<std::size_t>(n_heads) * length);
    for (std::size_t h = 0; h < static_cast<std::size_t>(n_heads); ++h) {
      const HeadRowStats* from = heads + h * static_cast<std::size_t>(n) + offset;
      std::copy(from, from + length, text_heads_.begin() + static_cast<std::ptrdiff_t>(h * length));
    }
    observers_[k]->on_row_statistics(layer, n_heads, lengths_[k], text_heads_.data(), rows + offset);
  }
}

void PackedObserver::on_layer_end(int layer) {
  for (AttentionObserver* o : observers_) {
    if (o) o->on_layer_end(layer);
  }
}

}  // namespace bentov
