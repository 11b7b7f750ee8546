#include "packed_observer.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "bentov/ops/parallel.h"

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

// Kept until on_layer_end, which hands the texts their shares (the statistics stay valid until
// then: observer.h).
void PackedObserver::on_row_statistics(int layer, int n_heads, int n, const HeadRowStats* heads,
                                       const LayerRowStats* rows) {
  pending_ = {layer, n_heads, n, heads, rows};
}

// heads: (n_heads, n) of the whole pass; text k gets its columns [offset_k, offset_k + length_k).
// The texts' observers are independent: they run side by side, one text per worker at a time,
// each given its share of the layer's statistics and then the layer's end.
void PackedObserver::on_layer_end(int layer) {
  const Pending p = pending_.layer == layer ? pending_ : Pending{};
  pending_ = {};
  const int workers = std::min(ops::default_threads(), static_cast<int>(observers_.size()));
  text_heads_.resize(static_cast<std::size_t>(std::max(workers, 1)));
  ops::parallel_for(static_cast<int>(observers_.size()), workers, [&](int item, int worker) {
    const auto k = static_cast<std::size_t>(item);
    if (!observers_[k]) return;
    if (p.heads) {
      const auto length = static_cast<std::size_t>(lengths_[k]), offset = static_cast<std::size_t>(offsets_[k]);
      std::vector<HeadRowStats>& share = text_heads_[static_cast<std::size_t>(worker)];  // (n_heads, length)
      share.resize(static_cast<std::size_t>(p.n_heads) * length);
      for (std::size_t h = 0; h < static_cast<std::size_t>(p.n_heads); ++h) {
        const HeadRowStats* from = p.heads + h * static_cast<std::size_t>(p.n) + offset;
        std::copy(from, from + length, share.begin() + static_cast<std::ptrdiff_t>(h * length));
      }
      observers_[k]->on_row_statistics(layer, p.n_heads, lengths_[k], share.data(), p.rows + offset);
    }
    observers_[k]->on_layer_end(layer);
  });
}

}  // namespace bentov
