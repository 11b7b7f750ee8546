#include "bentov/analysis/series.h"

#include <set>
#include <utility>

namespace bentov::analysis {

namespace {

// analyze_corpus with every text's signature kept: texts[i] belongs to specs[i] (partial or
// empty when that model failed).
AnalysisReport corpus_keeping_texts(const std::vector<std::string>& specs, const Corpus& corpus, RunOptions options,
                                    CorpusOptions co, std::vector<std::vector<TextSignature>>& texts) {
  texts.assign(specs.size(), {});
  std::size_t current = 0;  // the spec being run: analyze_corpus runs them in order
  auto user_model_done = options.on_model_done;
  options.on_model_done = [&current, user_model_done](std::size_t done, std::size_t total) {
    current = done;
    if (user_model_done) user_model_done(done, total);
  };
  auto user_text = co.on_text;
  co.on_text = [&](const ModelReport& m, const TextSignature& t) {
    texts[current].push_back(t);
    if (user_text) user_text(m, t);
  };
  return analyze_corpus(specs, corpus, options, co);
}

}  // namespace

CorpusSweep sweep_corpus(const std::vector<std::string>& specs, const Corpus& corpus, RunOptions options,
                         CorpusOptions co) {
  std::vector<std::vector<TextSignature>> texts;
  CorpusSweep out;
  out.report = corpus_keeping_texts(specs, corpus, std::move(options), co, texts);
  std::set<std::string> failed;
  for (const auto& f : out.report.failures) failed.insert(f.source);
  std::vector<std::vector<TextSignature>> analyzed;  // in checkpoint order
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (!failed.count(specs[i])) analyzed.push_back(std::move(texts[i]));
  }
  for (std::size_t k = 0; k + 1 < analyzed.size(); ++k) {
    out.paired.shifts.push_back(paired_shift(analyzed[k], analyzed[k + 1], co.bootstrap, co.seed));
  }
  out.paired.correlation = l_star_loss_correlation(analyzed, co.bootstrap, co.seed);
  return out;
}

CorpusComparison compare_corpus(const std::string& a, const std::string& b, const Corpus& corpus, RunOptions options,
                                CorpusOptions co) {
  options.rethrow_failures = true;
  std::vector<std::vector<TextSignature>> texts;
  const AnalysisReport report = corpus_keeping_texts({a, b}, corpus, std::move(options), co, texts);
  return {compare_models(report.models.at(0), report.models.at(1)),
          paired_shift(texts[0], texts[1], co.bootstrap, co.seed)};
}

}  // namespace bentov::analysis
