// The attention patterns the HTML report shows, captured on the analysis's own forward pass
// (analysis::RunOptions::observe_pass beside the SignatureObserver): every head's pooled
// thumbnail, and the full patterns of as many heads as the page's size budget holds, encoded
// as they stream (pattern_encoding.h). Memory: one layer's (heads, side, side) float sums plus
// the encoded bytes; never an (n, n) float matrix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "bentov/analysis/pipeline.h"
#include "bentov/model/observer.h"
#include "bentov/report/pattern_encoding.h"

namespace bentov::report {

// The page's size: it stays under kHtmlMaxBytes. Thumbnails of all models share
// kHtmlThumbBudget, full patterns kHtmlFullBudget; the rest (script, curves, the results'
// JSON, token labels) is a few hundred kB to a few MB, and the writer drops full patterns
// (last in full_pattern_order first) should the page still come out too large.
inline constexpr std::size_t kHtmlMaxBytes = 50'000'000;
inline constexpr std::size_t kHtmlThumbBudget = 12'000'000;
inline constexpr std::size_t kHtmlFullBudget = 34'000'000;

// Page bytes (base64) one model's patterns may take.
struct PatternBudget {
  std::size_t thumb_bytes = 0;  // all thumbnails together
  std::size_t full_bytes = 0;   // all full patterns together
};

// One model's captured patterns.
struct ModelPatterns {
  int n_layers = 0, n_heads = 0, n = 0;
  std::vector<std::string> labels;  // (n) each token through the tokenizer's decoder, or "#id"
  bool labels_from_tokenizer = false;
  int thumb_side = 0;                              // thumbnails are (side, side), lower triangle
  std::vector<std::vector<std::uint8_t>> thumbs;   // (layers * heads) of triangle_size(side)
  std::vector<std::vector<std::uint16_t>> full;    // (layers * heads) of triangle_size(n), or empty
  std::size_t full_heads() const;                  // heads with a full pattern
};

class PatternCapture : public AttentionObserver {
 public:
  PatternCapture(std::vector<std::string> labels, bool labels_from_tokenizer, PatternBudget budget);

  void on_sequence(int n_layers, int n_heads, int n) override;
  // Thread-safe across heads (each head has its own buffers).
  void on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) override;
  void on_layer_end(int layer) override;

  // Every layer ended.
  bool complete() const { return layers_done_ == patterns_.n_layers && patterns_.n_layers > 0; }
  const ModelPatterns& patterns() const { return patterns_; }

 private:
  PatternBudget budget_;
  ModelPatterns patterns_;
  std::vector<int> cells_;                 // (n) thumbnail cell of each position
  std::vector<std::vector<ThumbPool>> pools_;  // [layer] -> (heads) sums until the layer ends
  int layers_done_ = 0;
};

// The token labels of a pattern: each id through the folder's tokenizer (its decoder), "#id"
// for ids it does not know or when the folder has no usable tokenizer (then `from_tokenizer`
// is false).
std::vector<std::string> token_labels(const std::filesystem::path& folder, std::span<const std::int32_t> ids,
                                      bool& from_tokenizer);

// One capture per model of a run, found again by the model's source for the page.
class PatternCollector {
 public:
  // `models`: how many models the run analyzes, which share the page's budget equally.
  explicit PatternCollector(std::size_t models);

  // For RunOptions::observe_pass: a fresh capture for this model (replacing an earlier one
  // of the same source, which saw the same text).
  AttentionObserver* begin(const analysis::PassContext& pass);
  std::function<AttentionObserver*(const analysis::PassContext&)> hook();

  // The complete patterns of the model with this source; null when none were captured.
  const ModelPatterns* find(const std::string& source) const;

 private:
  PatternBudget share_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<PatternCapture>> by_source_;
};

}  // namespace bentov::report
