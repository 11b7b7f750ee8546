// `bentov analyze`: models x one text, or a corpus; table, JSON, CSV, figures.
#include "cli.h"

#include <iostream>

#include "bentov/analysis/corpus.h"
#include "bentov/error.h"
#include "bentov/io/atomic_file.h"
#include "bentov/report/corpus_plot.h"
#include "bentov/report/csv_writer.h"
#include "bentov/report/html_report.h"
#include "bentov/report/json_writer.h"
#include "bentov/report/plot.h"

namespace bentov::cli {

namespace {

// A corpus run: per-text metrics stream to --per-text (or DIR/per_text.jsonl) as each text
// finishes; the file appears, complete, only at the end.
bentov::analysis::AnalysisReport run_corpus(const AnalyzeFlags& f, const std::vector<std::string>& specs,
                                            const bentov::analysis::RunOptions& opts, bentov::distrib::Session& session,
                                            const bentov::distrib::DistribOptions& dopts) {
  const auto corpus = bentov::analysis::read_corpus(*f.corpus, f.max_texts);
  auto note = progress_printer(f.engine.quiet);
  if (note) {
    note("corpus " + *f.corpus + ": " + std::to_string(corpus.texts.size()) + " texts" +
         (corpus.jsonl ? " (JSON Lines)" : "") + ", " + std::to_string(corpus.n_blank) +
         " blank lines skipped" + (corpus.limited ? ", stopped at --max-texts" : ""));
  }
  if (corpus.texts.empty()) {
    throw bentov::InputError("corpus '" + *f.corpus + "' has no text", "write one text per line");
  }
  bentov::analysis::CorpusOptions co;
  co.max_tokens = f.max_tokens;
  co.bootstrap = f.bootstrap;
  co.seed = f.seed;
  const auto per_text_path = f.per_text ? std::optional<fs::path>(*f.per_text)
                             : f.out    ? std::optional<fs::path>(fs::path(*f.out) / "per_text.jsonl")
                                        : std::nullopt;
  auto analyze = [&] {
    return bentov::distrib::distributed(session, dopts)
               ? bentov::distrib::analyze_corpus(session, specs, corpus, opts, co, dopts)
               : bentov::analysis::analyze_corpus(specs, corpus, opts, co);
  };
  if (!per_text_path) return analyze();
  bentov::analysis::AnalysisReport report;
  bentov::io::write_file_atomic(*per_text_path, [&](std::ostream& os) {
    co.on_text = [&os](const bentov::analysis::ModelReport& m, const bentov::analysis::TextSignature& t) {
      os << bentov::report::per_text_json_line(m.name, t) << '\n';
    };
    report = analyze();
  });
  if (note) note("wrote " + per_text_path->string());
  return report;
}

}  // namespace

int run_analyze(const AnalyzeFlags& f, const io::ResolveOptions& resolve, bentov::distrib::Session& session) {
  bentov::analysis::RunOptions opts = f.engine.run_options(f.loss, resolve);
  if (session.worker()) return bentov::distrib::serve_rank(session, opts);  // rank 0 has the inputs
  const auto specs = f.models.empty() ? demo_models() : f.models;
  const auto html_path = f.html ? std::optional<fs::path>(*f.html)
                         : f.out ? std::optional<fs::path>(fs::path(*f.out) / "report.html") : std::nullopt;
  // One text: the page's patterns come from the analysis's own forward passes.
  std::optional<bentov::report::PatternCollector> patterns;
  if (html_path && !f.corpus) {
    patterns.emplace(specs.size());
    opts.observe_pass = patterns->hook();
  }
  const auto json_out = f.json ? std::optional<fs::path>(*f.json)
                        : f.out ? std::optional<fs::path>(fs::path(*f.out) / "results.json") : std::nullopt;
  const bentov::distrib::DistribOptions dopts{json_out, f.resume, f.shard_texts};
  const auto report =
      f.corpus ? run_corpus(f, specs, opts, session, dopts)
      : bentov::distrib::distributed(session, dopts)
          ? bentov::distrib::analyze_models(session, specs, text_source(f.input, true), opts, dopts)
          : bentov::analysis::analyze_models(specs, text_source(f.input, /*default_sentence=*/true), opts);

  std::cout << bentov::report::format_summary_table(report, {f.estimators}) << std::flush;
  const auto json_path = f.json ? std::optional<fs::path>(*f.json)
                                : f.out ? std::optional<fs::path>(fs::path(*f.out) / "results.json") : std::nullopt;
  const auto csv_path = f.csv ? std::optional<fs::path>(*f.csv)
                              : f.out ? std::optional<fs::path>(fs::path(*f.out) / "layers.csv") : std::nullopt;
  const auto plot_path = f.plot ? std::optional<fs::path>(*f.plot)
                                : f.out ? std::optional<fs::path>(fs::path(*f.out) / "bentov_point_analysis.png")
                                        : std::nullopt;
  auto note = progress_printer(f.engine.quiet);
  if (json_path) {
    bentov::report::write_json(*json_path, report);
    if (note) note("wrote " + json_path->string());
  }
  if (csv_path) {
    bentov::report::write_csv(*csv_path, report);
    if (note) note("wrote " + csv_path->string());
  }
  if (plot_path && !report.models.empty()) {
    bentov::report::write_plot(*plot_path, report);
    if (note) note("wrote " + plot_path->string());
  }
  if (html_path && !report.models.empty()) {
    bentov::report::write_html(*html_path, bentov::report::analyze_html(report, patterns ? &*patterns : nullptr));
    if (note) note("wrote " + html_path->string());
  }
  if (f.out && f.corpus && !report.models.empty()) {
    for (const auto& p : bentov::report::write_corpus_plots(*f.out, report)) {
      if (note) note("wrote " + p.string());
    }
  }
  if (bentov::distrib::distributed(session, dopts)) bentov::distrib::run_complete(dopts, report);
  if (report.models.empty()) return nothing_analyzed(report);
  return report.failures.empty() ? kExitOk : kExitSomeFailed;
}

}  // namespace bentov::cli
