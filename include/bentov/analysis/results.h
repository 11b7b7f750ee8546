// What one `bentov analyze` run produced: the structures behind the summary table, the JSON
// (DESIGN.md section 3, field for field), the CSV and the figure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bentov/analysis/estimators.h"
#include "bentov/metrics/signature.h"
#include "bentov/version.h"

namespace bentov::analysis {

using metrics::HeadSignature;
using metrics::LayerSignature;

// A statistic over the texts of a corpus: its mean and the 95% bootstrap percentile interval
// of that mean (analysis/corpus_stats.h).
struct MeanCi {
  double mean = LayerSignature::kUnset;
  double lo = LayerSignature::kUnset;  // 2.5th percentile of the bootstrap means
  double hi = LayerSignature::kUnset;  // 97.5th percentile
};

// One layer of a corpus profile: every per-layer field of LayerSignature, averaged over the
// texts (texts where a field is undefined, NaN, are left out of that field's mean).
struct CorpusLayer {
  int index = 0;
  MeanCi locality, entropy, sheaf_trace, sheaf_trace_per_token;
  MeanCi sink_mass, locality_no_sink, entropy_no_sink, row_entropy_mean;
  std::vector<HeadSignature> heads;  // (n_heads) per-head locality and entropy, mean over texts
};

// The distribution of L* over a corpus.
struct LStarDistribution {
  std::vector<int> counts;     // (n_layers) texts whose own L* (argmax rule) is that layer
  int mode = 0;                // the most frequent per-text L* (first layer on ties)
  double mean = 0.0;           // mean of the per-text L*
  int mean_profile = 0;        // L* (argmax rule) of the mean locality profile: the point estimate
  int ci_lo = 0, ci_hi = 0;    // 95% bootstrap interval of mean_profile (nearest-rank percentiles)
  int mode_ci_lo = 0, mode_ci_hi = 0;  // the same for the mode of the per-text L*
  std::vector<int> bootstrap_counts;   // (n_layers) bootstrap replicates of mean_profile per layer
};

// L* / n_layers with its bootstrap interval and a two-sided bootstrap test against 0.5.
struct RatioTest {
  double value = 0.0;             // point estimate
  double lo = 0.0, hi = 0.0;      // 95% percentile interval
  double p_value = 1.0;           // min(1, 2 min(P*(r <= 0.5), P*(r >= 0.5))) over replicates
  std::vector<double> replicates;  // (B) bootstrap replicates (not written to the JSON)
};

// What a corpus run adds to a model's report.
struct CorpusSummary {
  std::string file;             // the corpus file as given
  int n_texts = 0;              // texts analyzed
  int n_skipped_short = 0;      // texts with fewer than 2 tokens (after truncation)
  int n_truncated = 0;          // texts cut to --max-tokens or to the model's positions
  long long n_tokens = 0;       // tokens analyzed, over all texts
  int max_tokens = 0;           // the cut applied (0: only the model's positions)
  int bootstrap = 0;            // B
  unsigned long long seed = 0;  // --seed
  LStarDistribution l_star;
  RatioTest l_star_ratio;       // mean_profile / n_layers
  std::vector<CorpusLayer> profile;  // (n_layers)
  std::optional<MeanCi> loss;        // --loss: mean over texts of each text's loss, 95% bootstrap CI
};

// One model analyzed on one text.
struct ModelReport {
  std::string name;                 // last path component of the id or folder ("pythia-160m")
  std::string source;               // as given: "EleutherAI/pythia-160m" or "/path/to/folder"
  std::string architecture;         // config.json model_type ("gpt_neox")
  int n_layers = 0;
  int n_heads = 0;
  std::vector<int32_t> token_ids;   // (n) the ids the model saw
  std::string weight_widening;      // CPU runs of one text: "once", "on use" or "not needed" (Model::weight_widening); else empty
  int l_star_theoretical = 0;       // n_layers // 2
  int l_star_empirical = 0;         // argmax |np.gradient(locality)|
  int deviation = 0;                // |empirical - theoretical|
  std::vector<LayerSignature> layers;  // (n_layers) in layer order; the corpus means in a corpus run
  std::optional<Estimators> estimators;  // of `layers` (compute_estimators)
  // --loss: mean next-token cross-entropy in nats per token (in a corpus run the mean over
  // texts of each text's, with its interval in corpus->loss); nullopt without --loss.
  std::optional<double> loss;
  long long n_predictions = 0;      // next-token predictions the loss averages (n - 1 per text)
  std::optional<CorpusSummary> corpus;   // corpus runs only
};

// Across the models of a corpus run: L*/L with its interval and the test against 0.5.
struct CrossModelSummary {
  RatioTest mean_ratio;  // mean over models of L*/L; replicate b averages the models' replicate b
};

// An error's message and hint, kept apart until they are printed.
struct Failure {
  std::string message;  // one line, the model named
  std::string hint;     // what to do about it; may be empty

  // The one line the table and the JSON show: the message, then " (hint: ...)" if any.
  std::string line() const { return hint.empty() ? message : message + " (hint: " + hint + ")"; }
};

// A model that could not be analyzed, and why.
struct FailureReport {
  std::string source;  // as given on the command line
  Failure failure;
};

struct AnalysisReport {
  std::string bentov_version = BENTOV_VERSION;
  std::optional<std::string> text;     // the text analyzed; nullopt with --ids (JSON null)
  std::vector<ModelReport> models;     // in command-line order
  std::vector<FailureReport> failures;  // in command-line order
  std::optional<double> mean_deviation;  // over `models`; nullopt when none was analyzed
  std::optional<std::string> corpus_file;  // corpus runs: the file (text is then nullopt)
  std::optional<CrossModelSummary> cross_model;  // corpus runs with a bootstrap
};

// Fills l_star_theoretical, l_star_empirical and deviation of `m` from m.n_layers and the
// locality of m.layers (analysis/l_star.h). Throws InputError when m.layers is empty.
void compute_l_star(ModelReport& m);

// Fills m.estimators from the locality, entropy and trace of m.layers (the per-token trace
// when every layer has one, else sheaf_trace). Throws InputError when m.layers is empty.
void compute_estimators(ModelReport& m);

// Sets r.mean_deviation to the mean of the models' deviations (nullopt when no model).
void compute_mean_deviation(AnalysisReport& r);

// The name shown for a source: its last path component ("EleutherAI/pythia-160m@main" ->
// "pythia-160m@main", "/models/gpt2/" -> "gpt2").
std::string display_name(const std::string& source);

}  // namespace bentov::analysis

// The report layer formats these results; it names them as its own.
namespace bentov::report {
using analysis::AnalysisReport;
using analysis::FailureReport;
using analysis::HeadSignature;
using analysis::LayerSignature;
using analysis::ModelReport;
using analysis::compute_estimators;
using analysis::compute_l_star;
using analysis::CorpusSummary;
using analysis::CrossModelSummary;
using analysis::compute_mean_deviation;
using analysis::display_name;
}  // namespace bentov::report
