#include "bentov/distrib/merge.h"

#include "bentov/error.h"

namespace bentov::distrib {
using analysis::AnalysisReport;
using analysis::ModelReport;

namespace {

void say(const analysis::RunOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

void check_sizes(const Plan& plan, const std::vector<ItemResult>& results) {
  if (results.size() != plan.items.size()) {
    throw FormatError("internal: " + std::to_string(results.size()) + " results for " +
                      std::to_string(plan.items.size()) + " work items");
  }
}

void fail(AnalysisReport& out, const analysis::RunOptions& options, const std::string& spec,
          analysis::Failure failure) {
  say(options, "error: " + failure.line());
  out.failures.push_back({spec, std::move(failure)});
}

}  // namespace

AnalysisReport merge_text(const Plan& plan, std::vector<ItemResult> results, const analysis::RunOptions& options) {
  check_sizes(plan, results);
  AnalysisReport out;
  out.text = plan.source.ids ? std::nullopt : plan.source.text;
  for (std::size_t i = 0; i < plan.items.size(); ++i) {
    const std::string& spec = plan.specs.at(plan.items[i].spec);
    ItemResult& r = results[i];
    if (r.error) {
      fail(out, options, spec, *r.error);
      continue;
    }
    try {
      ModelReport m = std::move(r.model);
      analysis::compute_l_star(m);  // what analyze_model does after the forward pass
      analysis::compute_estimators(m);
      out.models.push_back(std::move(m));
    } catch (const Error& e) {
      fail(out, options, spec, analysis::failure_of(e));
    }
  }
  analysis::compute_mean_deviation(out);
  return out;
}

AnalysisReport merge_corpus(const Plan& plan, std::vector<ItemResult> results, const analysis::RunOptions& options,
                            const analysis::CorpusOptions& co) {
  check_sizes(plan, results);
  AnalysisReport out;
  out.text = std::nullopt;
  out.corpus_file = plan.corpus.file;
  std::size_t i = 0;
  for (std::size_t s = 0; s < plan.specs.size(); ++s) {
    analysis::CorpusTexts texts;
    std::optional<analysis::Failure> error;
    const ItemResult* first = nullptr;  // the range that holds the header
    for (; i < plan.items.size() && plan.items[i].spec == s; ++i) {
      ItemResult& r = results[i];
      if (error) continue;  // after the first failing range: not part of the run
      if (!first && !r.error) first = &r;
      for (auto& t : r.texts.texts) {
        if (co.on_text) co.on_text(first ? first->model : r.model, t);
        texts.texts.push_back(std::move(t));
      }
      texts.skipped += r.texts.skipped;
      texts.truncated += r.texts.truncated;
      if (r.error) error = r.error;
    }
    if (error) {
      fail(out, options, plan.specs[s], *error);
      continue;
    }
    if (!first) {
      fail(out, options, plan.specs[s], {"internal: no work item for " + plan.specs[s], "please report this with the command line"});
      continue;
    }
    try {
      out.models.push_back(analysis::finish_model_corpus(first->model, std::move(texts), first->value_frob_sq,
                                                         plan.corpus, co));
      say(options, out.models.back().name + ": " + std::to_string(out.models.back().corpus->n_texts) +
                       " texts merged (L* of the mean profile " +
                       std::to_string(out.models.back().corpus->l_star.mean_profile) + ")");
    } catch (const Error& e) {
      fail(out, options, plan.specs[s], analysis::failure_of(e));
    }
  }
  analysis::compute_mean_deviation(out);
  out.cross_model = analysis::cross_model_summary(out.models);
  return out;
}

}  // namespace bentov::distrib
