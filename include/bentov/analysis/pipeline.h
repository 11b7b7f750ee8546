// The analysis of one text through several models, each model isolated: a model that fails
// (missing files, unsupported architecture, too many tokens) becomes a FailureReport while
// the others still run. One forward pass per model; metrics stream from the observer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bentov/analysis/results.h"

namespace bentov::analysis {

// What to run: a text (tokenized by each model's own tokenizer) or ids given directly.
struct TextSource {
  std::optional<std::string> text;
  std::optional<std::vector<std::int32_t>> ids;
};

struct RunOptions {
  int threads = 0;                                   // BLAS threads (0: OpenBLAS default)
  std::function<void(const std::string&)> progress;  // one line per step; may be empty
};

// The model folder's tokenizer applied to the text, or the ids as given.
std::vector<std::int32_t> input_ids_for(const std::filesystem::path& folder, const TextSource& source);

// Resolves `spec` (folder or Hugging Face id), runs the text, returns its report. Throws
// bentov::Error (with the model named) on failure.
ModelReport analyze_model(const std::string& spec, const TextSource& source,
                                  const RunOptions& options);

// Every spec in order; failures are collected, not thrown. Fills L* and the mean deviation.
AnalysisReport analyze_models(const std::vector<std::string>& specs, const TextSource& source,
                                      const RunOptions& options);

}  // namespace bentov::analysis
