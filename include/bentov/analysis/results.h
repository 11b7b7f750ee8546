// What one `bentov analyze` run produced: the structures behind the summary table, the JSON
// (DESIGN.md section 3, field for field), the CSV and the figure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bentov/metrics/signature.h"

namespace bentov::analysis {

using metrics::HeadSignature;
using metrics::LayerSignature;

// One model analyzed on one text.
struct ModelReport {
  std::string name;                 // last path component of the id or folder ("pythia-160m")
  std::string source;               // as given: "EleutherAI/pythia-160m" or "/path/to/folder"
  std::string architecture;         // config.json model_type ("gpt_neox")
  int n_layers = 0;
  int n_heads = 0;
  std::vector<int32_t> token_ids;   // (n) the ids the model saw
  int l_star_theoretical = 0;       // n_layers // 2
  int l_star_empirical = 0;         // argmax |np.gradient(locality)|
  int deviation = 0;                // |empirical - theoretical|
  std::vector<LayerSignature> layers;  // (n_layers) in layer order
};

// A model that could not be analyzed, with its one-line error.
struct FailureReport {
  std::string source;  // as given on the command line
  std::string error;   // one line: the error message (and hint, if the caller adds it)
};

struct AnalysisReport {
  std::string bentov_version = BENTOV_VERSION;
  std::optional<std::string> text;     // the text analyzed; nullopt with --ids (JSON null)
  std::vector<ModelReport> models;     // in command-line order
  std::vector<FailureReport> failures;  // in command-line order
  std::optional<double> mean_deviation;  // over `models`; nullopt when none was analyzed
};

// Fills l_star_theoretical, l_star_empirical and deviation of `m` from m.n_layers and the
// locality of m.layers (analysis/l_star.h). Throws InputError when m.layers is empty.
void compute_l_star(ModelReport& m);

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
using analysis::compute_l_star;
using analysis::compute_mean_deviation;
using analysis::display_name;
}  // namespace bentov::report
