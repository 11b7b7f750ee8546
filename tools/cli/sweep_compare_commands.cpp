// `bentov sweep` (one model's checkpoints in order) and `bentov compare` (B - A).
#include "cli.h"

#include <iostream>
#include <string_view>

#include "bentov/analysis/compare.h"
#include "bentov/analysis/series.h"
#include "bentov/error.h"
#include "bentov/io/atomic_file.h"
#include "bentov/report/html_report.h"
#include "bentov/report/sweep_compare.h"

namespace bentov::cli {

// `bentov sweep MODEL --revisions step0,step1000` or `bentov sweep DIR...`: one model's
// checkpoints in order.
int run_sweep(const SweepFlags& f, const io::ResolveOptions& resolve, bentov::distrib::Session& session) {
  bentov::analysis::RunOptions opts = f.engine.run_options(f.loss, resolve);
  if (session.worker()) return bentov::distrib::serve_rank(session, opts);  // rank 0 has the inputs
  std::vector<std::string> specs;
  if (f.revisions) {
    if (f.models.size() != 1) {
      throw bentov::UsageError("--revisions takes exactly one MODEL", "bentov sweep EleutherAI/pythia-160m --revisions step0,step1000");
    }
    std::size_t pos = 0;
    while (pos <= f.revisions->size()) {
      const auto comma = f.revisions->find(',', pos);
      const auto rev = f.revisions->substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (rev.empty()) throw bentov::UsageError("--revisions has an empty entry", "separate revisions with commas");
      specs.push_back(f.models.front() + "@" + rev);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  } else {
    specs = f.models;
  }
  if (specs.size() < 2) throw bentov::UsageError("a sweep needs at least two checkpoints", "give --revisions or several folders");
  std::optional<bentov::report::PatternCollector> patterns;
  if (f.output.html_path()) {
    patterns.emplace(specs.size());
    opts.observe_pass = patterns->hook();
  }
  const bentov::distrib::DistribOptions dopts{f.output.json_path("sweep.json"), f.resume};
  bentov::report::AnalysisReport report;
  std::optional<bentov::report::SweepCorpus> corpus;
  if (f.corpus.corpus) {
    if (bentov::distrib::distributed(session, dopts)) {
      throw bentov::UsageError("sweep --corpus runs in one process", "run it without mpirun and --resume");
    }
    auto run = bentov::analysis::sweep_corpus(specs, f.corpus.read(f.engine.quiet), opts, f.corpus.options());
    report = std::move(run.report);
    corpus = std::move(run.paired);
  } else {
    const auto source = text_source(f.input, /*default_sentence=*/true);
    report = bentov::distrib::distributed(session, dopts)
                 ? bentov::distrib::analyze_models(session, specs, source, opts, dopts)
                 : bentov::analysis::analyze_models(specs, source, opts);
  }
  const bentov::report::SweepCorpus* paired = corpus ? &*corpus : nullptr;
  std::cout << bentov::report::format_sweep_table(report, paired) << std::flush;
  auto note = progress_printer(f.engine.quiet);
  if (const auto p = f.output.json_path("sweep.json")) {
    bentov::io::write_file_atomic(*p, std::string_view(bentov::report::sweep_to_json(report, paired).dump(2) + "\n"));
    if (note) note("wrote " + p->string());
  }
  if (const auto p = f.output.plot_path("sweep.png"); p && !report.models.empty()) {
    bentov::report::write_sweep_plot(*p, report);
    if (note) note("wrote " + p->string());
  }
  if (const auto p = f.output.html_path(); p && !report.models.empty()) {
    bentov::report::write_html(*p, bentov::report::sweep_html(report, &*patterns));
    if (note) note("wrote " + p->string());
  }
  if (bentov::distrib::distributed(session, dopts)) bentov::distrib::run_complete(dopts, report);
  if (report.models.empty()) return nothing_analyzed(report);
  return report.failures.empty() ? kExitOk : kExitSomeFailed;
}

int run_compare(const CompareFlags& f, const io::ResolveOptions& resolve) {
  bentov::analysis::RunOptions opts = f.engine.run_options(f.loss, resolve);
  std::optional<bentov::report::PatternCollector> patterns;
  if (f.output.html_path()) {
    patterns.emplace(2);
    opts.observe_pass = patterns->hook();
  }
  std::optional<bentov::analysis::Comparison> comparison;
  std::optional<bentov::analysis::PairedShift> shift;
  if (f.corpus.corpus) {
    auto run = bentov::analysis::compare_corpus(f.a, f.b, f.corpus.read(f.engine.quiet), opts, f.corpus.options());
    comparison = std::move(run.comparison);
    shift = std::move(run.paired);
  } else {
    const auto source = text_source(f.input, /*default_sentence=*/true);
    const auto a = bentov::analysis::analyze_model(f.a, source, opts);
    const auto b = bentov::analysis::analyze_model(f.b, source, opts);
    comparison = bentov::analysis::compare_models(a, b);
  }
  const auto& c = *comparison;
  const bentov::analysis::PairedShift* paired = shift ? &*shift : nullptr;
  std::cout << bentov::report::format_compare_table(c, paired) << std::flush;
  auto note = progress_printer(f.engine.quiet);
  if (const auto p = f.output.json_path("compare.json")) {
    bentov::io::write_file_atomic(*p, std::string_view(bentov::report::compare_to_json(c, paired).dump(2) + "\n"));
    if (note) note("wrote " + p->string());
  }
  if (const auto p = f.output.plot_path("compare.png")) {
    bentov::report::write_compare_plot(*p, c, paired);
    if (note) note("wrote " + p->string());
  }
  if (const auto p = f.output.html_path()) {
    bentov::report::write_html(*p, bentov::report::compare_html(c, &*patterns));
    if (note) note("wrote " + p->string());
  }
  return kExitOk;
}

}  // namespace bentov::cli
