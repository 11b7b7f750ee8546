#include "bentov/report/pattern_capture.h"

#include <algorithm>
#include <stdexcept>

#include "bentov/error.h"
#include "bentov/tokenizer/tokenizer.h"

namespace bentov::report {

std::size_t ModelPatterns::full_heads() const {
  return static_cast<std::size_t>(std::count_if(full.begin(), full.end(), [](const auto& f) { return !f.empty(); }));
}

PatternCapture::PatternCapture(std::vector<std::string> labels, bool labels_from_tokenizer, PatternBudget budget)
    : budget_(budget) {
  patterns_.labels = std::move(labels);
  patterns_.labels_from_tokenizer = labels_from_tokenizer;
}

void PatternCapture::on_sequence(int n_layers, int n_heads, int n) {
  ModelPatterns& p = patterns_;
  p.n_layers = n_layers;
  p.n_heads = n_heads;
  p.n = n;
  const std::size_t total = static_cast<std::size_t>(n_layers) * static_cast<std::size_t>(n_heads);
  p.thumb_side = choose_thumb_side(n, total, budget_.thumb_bytes);
  cells_ = pool_cells(n, p.thumb_side);
  p.thumbs.assign(total, {});
  p.full.assign(total, {});
  pools_.assign(static_cast<std::size_t>(n_layers),
                std::vector<ThumbPool>(static_cast<std::size_t>(n_heads), ThumbPool(n, p.thumb_side)));
  const std::size_t per_head = full_page_bytes(n);
  std::size_t used = 0;
  for (const int i : full_pattern_order(n_layers, n_heads)) {
    if (used + per_head > budget_.full_bytes) break;
    used += per_head;
    p.full[static_cast<std::size_t>(i)].assign(triangle_size(static_cast<std::size_t>(n)), 0);
  }
  layers_done_ = 0;
}

void PatternCapture::on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) {
  if (n != patterns_.n || layer < 0 || layer >= patterns_.n_layers || head < 0 || head >= patterns_.n_heads) {
    throw std::logic_error("PatternCapture: rows outside the announced sequence");
  }
  pools_[static_cast<std::size_t>(layer)][static_cast<std::size_t>(head)].add_rows(r0, r1, rows, cells_);
  auto& full = patterns_.full[static_cast<std::size_t>(layer * patterns_.n_heads + head)];
  if (!full.empty()) encode_full_rows(r0, r1, rows, n, full.data());
}

void PatternCapture::on_layer_end(int layer) {
  auto& pools = pools_.at(static_cast<std::size_t>(layer));
  for (std::size_t h = 0; h < pools.size(); ++h) {
    patterns_.thumbs[static_cast<std::size_t>(layer) * pools.size() + h] = pools[h].encode(cells_);
  }
  pools = {};  // the sums are no longer needed
  ++layers_done_;
}

std::vector<std::string> token_labels(const std::filesystem::path& folder, std::span<const std::int32_t> ids,
                                      bool& from_tokenizer) {
  std::vector<std::string> labels;
  labels.reserve(ids.size());
  from_tokenizer = false;
  if (Tokenizer::available(folder)) {
    try {
      const Tokenizer tok = Tokenizer::load(folder);
      for (const auto id : ids) {
        labels.push_back(id >= 0 && static_cast<std::size_t>(id) < tok.vocab_size() ? tok.token_text(id)
                                                                                   : "#" + std::to_string(id));
      }
      from_tokenizer = true;
      return labels;
    } catch (const Error&) {
      labels.clear();  // labels are a convenience: a tokenizer that cannot decode falls back to ids
    }
  }
  for (const auto id : ids) labels.push_back("#" + std::to_string(id));
  return labels;
}

PatternCollector::PatternCollector(std::size_t models) {
  const std::size_t k = std::max<std::size_t>(models, 1);
  share_ = {kHtmlThumbBudget / k, kHtmlFullBudget / k};
}

AttentionObserver* PatternCollector::begin(const analysis::PassContext& pass) {
  bool from_tokenizer = false;
  auto labels = token_labels(pass.folder, pass.ids, from_tokenizer);
  auto capture = std::make_unique<PatternCapture>(std::move(labels), from_tokenizer, share_);
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = by_source_[pass.header.source];
  slot = std::move(capture);
  return slot.get();
}

std::function<AttentionObserver*(const analysis::PassContext&)> PatternCollector::hook() {
  return [this](const analysis::PassContext& pass) { return begin(pass); };
}

const ModelPatterns* PatternCollector::find(const std::string& source) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = by_source_.find(source);
  if (it == by_source_.end() || !it->second->complete()) return nullptr;
  return &it->second->patterns();
}

}  // namespace bentov::report
