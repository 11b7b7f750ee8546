// bentov command line: parses flags, calls the library, and is the only place that catches
// errors (printing one line and a hint, returning the exit codes of DESIGN.md section 2).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bentov/analysis/corpus.h"
#include "bentov/analysis/compare.h"
#include "bentov/analysis/pipeline.h"
#include "bentov/distrib/run.h"
#include "bentov/error.h"
#include "bentov/io/atomic_file.h"
#include "bentov/io/hf_cache.h"
#include "bentov/io/hf_hub.h"
#include "bentov/io/json_file.h"
#include "bentov/model/capture.h"
#include "bentov/model/model.h"
#include "bentov/ops/blas_kernels.h"
#include "bentov/report/corpus_plot.h"
#include "bentov/report/csv_writer.h"
#include "bentov/report/json_writer.h"
#include "bentov/report/plot.h"
#include "bentov/report/summary_table.h"
#include "bentov/report/sweep_compare.h"
#include "bentov/tokenizer/tokenizer.h"

namespace fs = std::filesystem;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNothing = 3;

constexpr const char* kNotebookSentence =
    "The fundamental nature of reality is that all things are interconnected through underlying "
    "mathematical structures.";
constexpr std::size_t kMaxTextBytes = 64u << 20;

// Flags shared by the commands that take a text.
struct TextFlags {
  std::optional<std::string> text;
  std::optional<std::string> text_file;
  std::optional<std::string> ids;

  void add_to(CLI::App& cmd) {
    auto* t = cmd.add_option("--text", text, "text to analyze (default: the notebook's sentence)");
    auto* f = cmd.add_option("--text-file", text_file, "file whose exact bytes are the text");
    auto* i = cmd.add_option("--ids", ids, "comma-separated token ids, bypassing the tokenizer");
    t->excludes(f)->excludes(i);
    f->excludes(i);
    t->group("Input");
    f->group("Input");
    i->group("Input");
  }

  bool any() const { return text || text_file || ids; }
};

std::vector<std::int32_t> parse_ids(const std::string& s) {
  std::vector<std::int32_t> ids;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const auto comma = s.find(',', pos);
    std::string part = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) part.erase(0, 1);
    while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) part.pop_back();
    if (part.empty() && comma == std::string::npos && ids.empty()) break;
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(part, &used);
    } catch (...) {
      used = 0;
    }
    if (part.empty() || used != part.size()) {
      throw bentov::UsageError("--ids: '" + part + "' is not an integer", "write ids like --ids 464,329,995");
    }
    if (v < 0 || v > INT32_MAX) {
      throw bentov::UsageError("--ids: " + part + " is not a valid token id", "token ids are non-negative");
    }
    ids.push_back(static_cast<std::int32_t>(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (ids.empty()) throw bentov::UsageError("--ids is empty", "write ids like --ids 464,329,995");
  return ids;
}

bentov::analysis::TextSource text_source(const TextFlags& f, bool default_sentence) {
  bentov::analysis::TextSource src;
  if (f.ids) {
    src.ids = parse_ids(*f.ids);
  } else if (f.text_file) {
    src.text = bentov::io::read_file_bytes(*f.text_file, kMaxTextBytes);
  } else if (f.text) {
    src.text = *f.text;
  } else if (default_sentence) {
    src.text = kNotebookSentence;
  } else {
    throw bentov::UsageError("no input given", "pass --text, --text-file or --ids");
  }
  return src;
}

std::function<void(const std::string&)> progress_printer(bool quiet) {
  if (quiet) return {};
  return [](const std::string& line) { std::cerr << line << '\n'; };
}

// The demo models shipped in models/: beside an installed binary (PREFIX/share/bentov/models),
// at the configured install dir, or in the source tree for a build-tree binary.
std::vector<std::string> demo_models() {
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("BENTOV_MODELS_DIR"); env && *env) roots.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) roots.push_back(exe.parent_path().parent_path() / "share" / "bentov" / "models");
  roots.emplace_back(BENTOV_INSTALL_MODELS_DIR);
  roots.emplace_back(BENTOV_SOURCE_MODELS_DIR);
  for (const auto& root : roots) {
    std::vector<std::string> found;
    if (!fs::is_directory(root, ec)) continue;
    for (const auto& e : fs::directory_iterator(root, ec)) {
      if (fs::exists(e.path() / "config.json")) found.push_back(e.path().string());
    }
    if (!found.empty()) {
      std::sort(found.begin(), found.end());
      return found;
    }
  }
  throw bentov::UsageError("no MODEL given and no demo models found",
                           "pass a checkpoint folder or Hugging Face id, or set BENTOV_MODELS_DIR");
}

// Every model failed: the table and JSON list why; stderr still gets the one error line (and
// its hint), also under --quiet.
int nothing_analyzed(const bentov::report::AnalysisReport& report) {
  std::string first = report.failures.empty() ? "no model given" : report.failures.front().error;
  std::string hint;
  if (const auto at = first.rfind(" (hint: "); at != std::string::npos && first.back() == ')') {
    hint = first.substr(at + 8, first.size() - at - 9);
    first.erase(at);
  }
  std::cerr << "bentov: error: nothing could be analyzed: " << first << '\n';
  if (!hint.empty()) std::cerr << "hint: " << hint << '\n';
  return kExitNothing;
}

struct AnalyzeFlags {
  std::vector<std::string> models;
  TextFlags input;
  std::optional<std::string> json, csv, plot, out;
  int threads = 0;
  bool quiet = false;
  // Corpus runs and estimators (issue 8).
  std::optional<std::string> corpus, per_text;
  std::size_t max_texts = 0;
  int max_tokens = 0;
  int bootstrap = 1000;
  std::uint64_t seed = 0;
  bool estimators = false;
  // Distributed and resumable runs (issue 11, distrib/run.h).
  bool resume = false;
  std::size_t shard_texts = bentov::distrib::kDefaultShardTexts;
};

// A corpus run: per-text metrics stream to --per-text (or DIR/per_text.jsonl) as each text
// finishes; the file appears, complete, only at the end.
bentov::analysis::AnalysisReport run_corpus(const AnalyzeFlags& f, const std::vector<std::string>& specs,
                                            const bentov::analysis::RunOptions& opts, bentov::distrib::Session& session,
                                            const bentov::distrib::DistribOptions& dopts) {
  const auto corpus = bentov::analysis::read_corpus(*f.corpus, f.max_texts);
  auto note = progress_printer(f.quiet);
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

int run_analyze(const AnalyzeFlags& f, bentov::distrib::Session& session) {
  bentov::analysis::RunOptions opts{f.threads, progress_printer(f.quiet)};
  if (session.worker()) return bentov::distrib::serve_rank(session, opts);  // rank 0 has the inputs
  const auto specs = f.models.empty() ? demo_models() : f.models;
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
  auto note = progress_printer(f.quiet);
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
  if (f.out && f.corpus && !report.models.empty()) {
    for (const auto& p : bentov::report::write_corpus_plots(*f.out, report)) {
      if (note) note("wrote " + p.string());
    }
  }
  if (bentov::distrib::distributed(session, dopts)) bentov::distrib::run_complete(dopts, report);
  if (report.models.empty()) return nothing_analyzed(report);
  return report.failures.empty() ? kExitOk : kExitSomeFailed;
}

struct AttentionFlags {
  std::string model;
  TextFlags input;
  std::string out;
  int threads = 0;
  bool quiet = false;
};

int run_attention(const AttentionFlags& f) {
  const auto source = text_source(f.input, /*default_sentence=*/true);
  const auto resolved = bentov::io::resolve_model(f.model);
  auto note = progress_printer(f.quiet);
  if (note) note(resolved.name + ": loading " + resolved.folder.string());
  const auto model = bentov::Model::load(resolved.folder);
  const auto ids = bentov::analysis::input_ids_for(resolved.folder, source);
  model.check_input(ids);
  const auto& c = model.config();
  if (note) note(resolved.name + ": " + std::to_string(ids.size()) + " tokens -> " + f.out);
  bentov::SafetensorsCapture capture(f.out, ids, c.n_layers, c.n_heads,
                                     {{"model", resolved.source}, {"bentov_version", BENTOV_VERSION}});
  model.forward(ids, &capture, bentov::ForwardOptions{f.threads});
  capture.commit();
  return kExitOk;
}

int run_tokenize(const std::string& dir_or_id, const TextFlags& input) {
  if (input.ids) {
    throw bentov::UsageError("tokenize takes --text or --text-file, not --ids",
                             "bentov tokenize MODEL --text \"Hello world\"");
  }
  const auto source = text_source(input, /*default_sentence=*/false);
  fs::path folder = dir_or_id;
  if (!fs::is_directory(folder)) folder = bentov::io::resolve_model(dir_or_id).folder;
  const auto ids = bentov::Tokenizer::load(folder).encode(*source.text);
  std::cout << nlohmann::json(ids).dump() << '\n';
  return kExitOk;
}

int run_info(const std::string& spec, bool as_json) {
  const auto resolved = bentov::io::resolve_model(spec);
  const auto model = bentov::Model::load(resolved.folder);
  const auto& c = model.config();
  nlohmann::json j = {{"name", resolved.name},
                      {"source", resolved.source},
                      {"folder", resolved.folder.string()},
                      {"architecture", c.architecture},
                      {"class", c.model_class},
                      {"n_layers", c.n_layers},
                      {"n_heads", c.n_heads},
                      {"hidden_size", c.hidden_size},
                      {"head_dim", c.head_dim},
                      {"intermediate_size", c.intermediate_size},
                      {"vocab_size", c.vocab_size},
                      {"max_positions", c.max_positions},
                      {"dtype", c.dtype},
                      {"parameters", model.weights().parameter_count},
                      {"positions", c.positions == bentov::PositionKind::kRotary ? "rotary" : "learned"},
                      {"norm", c.norm_placement == bentov::NormPlacement::kPre ? "pre-LN" : "post-LN"},
                      {"parallel_residual", c.parallel_residual}};
  if (c.positions == bentov::PositionKind::kRotary) {
    j["rotary_dims"] = c.rotary_dims;
    j["rope_theta"] = c.rope_theta;
  }
  if (bentov::Tokenizer::available(resolved.folder)) {
    const auto tok = bentov::Tokenizer::load(resolved.folder);
    j["tokenizer"] = {{"kind", tok.kind()}, {"vocab_size", tok.vocab_size()}};
  } else {
    j["tokenizer"] = nullptr;
  }
  if (as_json) {
    std::cout << j.dump(2) << '\n';
    return kExitOk;
  }
  auto row = [](const std::string& k, const std::string& v) {
    std::printf("%-18s %s\n", (k + ":").c_str(), v.c_str());
  };
  row("model", resolved.name + " (" + resolved.source + ")");
  row("architecture", c.architecture + (c.model_class.empty() ? "" : " (" + c.model_class + ")"));
  row("layers", std::to_string(c.n_layers));
  row("heads", std::to_string(c.n_heads) + " x " + std::to_string(c.head_dim) + " dims");
  row("hidden size", std::to_string(c.hidden_size));
  row("mlp size", std::to_string(c.intermediate_size));
  row("vocabulary", std::to_string(c.vocab_size));
  row("positions", std::string(j["positions"]) + ", up to " + std::to_string(c.max_positions));
  row("norm", std::string(j["norm"]) + (c.parallel_residual ? ", parallel residual" : ""));
  row("dtype", c.dtype);
  row("parameters", std::to_string(model.weights().parameter_count));
  if (j["tokenizer"].is_null()) {
    row("tokenizer", "none");
  } else {
    row("tokenizer", std::string(j["tokenizer"]["kind"]) + ", " +
                         std::to_string(j["tokenizer"]["vocab_size"].get<std::size_t>()) + " ids");
  }
  return kExitOk;
}

// Output paths of sweep/compare: explicit flags, else defaults under --out.
struct OutputFlags {
  std::optional<std::string> json, plot, out;
  std::optional<fs::path> json_path(const char* name) const {
    if (json) return fs::path(*json);
    if (out) return fs::path(*out) / name;
    return std::nullopt;
  }
  std::optional<fs::path> plot_path(const char* name) const {
    if (plot) return fs::path(*plot);
    if (out) return fs::path(*out) / name;
    return std::nullopt;
  }
  void add_to(CLI::App& cmd) {
    cmd.add_option("--json", json, "write results as JSON")->group("Output");
    cmd.add_option("--plot", plot, "write the figure (.png or .svg)")->group("Output");
    cmd.add_option("--out", out, "write the JSON and the figure here under default names")->group("Output");
  }
};

struct SweepFlags {
  std::vector<std::string> models;  // MODEL (with --revisions) or checkpoint folders
  std::optional<std::string> revisions;
  TextFlags input;
  OutputFlags output;
  int threads = 0;
  bool quiet = false;
  bool resume = false;
};

// `bentov sweep MODEL --revisions step0,step1000` or `bentov sweep DIR...`: one model's
// checkpoints in order.
int run_sweep(const SweepFlags& f, bentov::distrib::Session& session) {
  const bentov::analysis::RunOptions opts{f.threads, progress_printer(f.quiet)};
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
  const auto source = text_source(f.input, /*default_sentence=*/true);
  const bentov::distrib::DistribOptions dopts{f.output.json_path("sweep.json"), f.resume};
  const auto report = bentov::distrib::distributed(session, dopts)
                          ? bentov::distrib::analyze_models(session, specs, source, opts, dopts)
                          : bentov::analysis::analyze_models(specs, source, opts);
  std::cout << bentov::report::format_sweep_table(report) << std::flush;
  auto note = progress_printer(f.quiet);
  if (const auto p = f.output.json_path("sweep.json")) {
    bentov::io::write_file_atomic(*p, std::string_view(bentov::report::sweep_to_json(report).dump(2) + "\n"));
    if (note) note("wrote " + p->string());
  }
  if (const auto p = f.output.plot_path("sweep.png"); p && !report.models.empty()) {
    bentov::report::write_sweep_plot(*p, report);
    if (note) note("wrote " + p->string());
  }
  if (bentov::distrib::distributed(session, dopts)) bentov::distrib::run_complete(dopts, report);
  if (report.models.empty()) return nothing_analyzed(report);
  return report.failures.empty() ? kExitOk : kExitSomeFailed;
}

struct CompareFlags {
  std::string a, b;
  TextFlags input;
  OutputFlags output;
  int threads = 0;
  bool quiet = false;
};

int run_compare(const CompareFlags& f) {
  const auto source = text_source(f.input, /*default_sentence=*/true);
  const bentov::analysis::RunOptions opts{f.threads, progress_printer(f.quiet)};
  const auto a = bentov::analysis::analyze_model(f.a, source, opts);
  const auto b = bentov::analysis::analyze_model(f.b, source, opts);
  const auto c = bentov::analysis::compare_models(a, b);
  std::cout << bentov::report::format_compare_table(c) << std::flush;
  auto note = progress_printer(f.quiet);
  if (const auto p = f.output.json_path("compare.json")) {
    bentov::io::write_file_atomic(*p, std::string_view(bentov::report::compare_to_json(c).dump(2) + "\n"));
    if (note) note("wrote " + p->string());
  }
  if (const auto p = f.output.plot_path("compare.png")) {
    bentov::report::write_compare_plot(*p, c);
    if (note) note("wrote " + p->string());
  }
  return kExitOk;
}

// `bentov download ID[@REV]`: fetches the model into the Hugging Face cache (io/hf_hub.h)
// and prints its snapshot folder; with --offline (or HF_HUB_OFFLINE=1) only checks the cache.
int run_download(const std::string& spec, bool offline, bool quiet) {
  const auto id = bentov::io::parse_hub_id(spec);
  if (!id) {
    throw bentov::UsageError("'" + spec + "' is not a Hugging Face id",
                             "write ORG/NAME[@REVISION], e.g. EleutherAI/pythia-160m@step1000");
  }
  auto options = bentov::io::hub_options_from_env();
  options.progress = !quiet;
  if (offline || options.offline) {
    const auto cached = bentov::io::resolve_model(spec, {/*allow_download=*/false, !quiet});
    std::cout << cached.folder.string() << '\n';
    return kExitOk;
  }
  const auto result = bentov::io::download_model(*id, options);
  if (!quiet) {
    std::size_t fetched = 0;
    std::uint64_t bytes = 0;
    for (const auto& f : result.files) {
      fetched += f.downloaded ? 1 : 0;
      bytes += f.downloaded ? f.size : 0;
    }
    std::cerr << id->repo_id() << "@" << id->rev() << ": " << result.files.size() << " files, " << fetched
              << " downloaded (" << bytes << " bytes), commit " << result.commit << '\n';
  }
  std::cout << result.snapshot.string() << '\n';
  return kExitOk;
}

void print_error(const std::string& message, const std::string& hint) {
  std::cerr << "bentov: error: " << message << '\n';
  if (!hint.empty()) std::cerr << "hint: " << hint << '\n';
}

constexpr const char* kThreadsHelp =
    "worker threads (default: the cores this process may run on); the numbers do not depend on it";

}  // namespace

int main(int argc, char** argv) {
  bentov::ops::reexec_for_blas_kernels(argv);  // before any thread or file exists
  CLI::App app{"bentov: where a transformer's attention turns from local to global (the Bentov Point)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("bentov ") + BENTOV_VERSION + " (OpenBLAS kernels: " +
                                        bentov::ops::blas_core_name() + ")");

  AnalyzeFlags af;
  auto* analyze = app.add_subcommand("analyze", "per-layer attention signatures and L* for each MODEL");
  analyze->add_option("MODEL", af.models, "checkpoint folders or Hugging Face ids (default: the demo models)");
  af.input.add_to(*analyze);
  analyze->add_option("--json", af.json, "write results as JSON")->group("Output");
  analyze->add_option("--csv", af.csv, "write one row per (model, layer) as CSV")->group("Output");
  analyze->add_option("--plot", af.plot, "write the 2x2 figure (.png or .svg)")->group("Output");
  analyze->add_option("--out", af.out,
                      "write results.json, layers.csv and bentov_point_analysis.png here (corpus runs: "
                      "also per_text.jsonl and the corpus figures)")
      ->group("Output");
  analyze->add_option("--threads", af.threads, kThreadsHelp)->check(CLI::Range(0, 1024));
  analyze->add_flag("--quiet", af.quiet, "no progress on stderr");
  bool offline = false;  // every command that resolves ids: the Hugging Face cache only
  constexpr const char* kOfflineHelp = "never download: use the Hugging Face cache only (also HF_HUB_OFFLINE=1)";
  analyze->add_flag("--offline", offline, kOfflineHelp);
  auto* corpus = analyze->add_option("--corpus", af.corpus,
                                     "analyze every text of F: one per line, or JSON Lines with a \"text\" field");
  corpus->group("Corpus");
  for (const char* other : {"--text", "--text-file", "--ids"}) corpus->excludes(analyze->get_option(other));
  analyze->add_option("--max-texts", af.max_texts, "only the first N texts of the corpus")
      ->check(CLI::Range(std::size_t{1}, std::numeric_limits<std::size_t>::max()))
      ->needs(corpus)
      ->group("Corpus");
  analyze->add_option("--max-tokens", af.max_tokens, "keep the first N tokens of each text (default: the model's limit)")
      ->check(CLI::Range(2, 1 << 30))
      ->needs(corpus)
      ->group("Corpus");
  analyze->add_option("--bootstrap", af.bootstrap, "bootstrap resamples for the 95% intervals")
      ->check(CLI::Range(1, 1000000))
      ->needs(corpus)
      ->capture_default_str()
      ->group("Corpus");
  analyze->add_option("--seed", af.seed, "seed of the bootstrap (std::mt19937_64)")
      ->needs(corpus)
      ->capture_default_str()
      ->group("Corpus");
  analyze->add_option("--per-text", af.per_text, "stream per-text metrics to F as JSON Lines")
      ->needs(corpus)
      ->group("Corpus");
  analyze->add_flag("--estimators", af.estimators,
                    "print every L* estimator in the table (two-segment BIC, trace sign change, consensus)");
  constexpr const char* kResumeHelp =
      "reuse the finished work items of an interrupted run (its journal beside the JSON output)";
  analyze->add_flag("--resume", af.resume, kResumeHelp)->group("Distributed");
  analyze->add_option("--shard-texts", af.shard_texts, "corpus texts per work item under mpirun or --resume")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30))
      ->needs(corpus)
      ->capture_default_str()
      ->group("Distributed");

  AttentionFlags tf;
  auto* attention = app.add_subcommand("attention", "dump every layer's attention to a safetensors file");
  attention->add_option("MODEL", tf.model, "checkpoint folder or Hugging Face id")->required();
  tf.input.add_to(*attention);
  attention->add_option("--out", tf.out, "output .safetensors (blocks.{l}.attn.pattern [head, q, k])")
      ->required();
  attention->add_option("--threads", tf.threads, kThreadsHelp)->check(CLI::Range(0, 1024));
  attention->add_flag("--quiet", tf.quiet, "no progress on stderr");
  attention->add_flag("--offline", offline, kOfflineHelp);

  std::string tok_model;
  TextFlags tok_input;
  auto* tokenize = app.add_subcommand("tokenize", "print the token ids of a text as a JSON array");
  tokenize->add_option("MODEL_OR_TOKENIZER_DIR", tok_model, "folder with tokenizer files, or a Hugging Face id")
      ->required();
  tok_input.add_to(*tokenize);
  tokenize->add_flag("--offline", offline, kOfflineHelp);

  std::string info_model;
  bool info_json = false;
  auto* info = app.add_subcommand("info", "describe a model: architecture, sizes, dtype, tokenizer");
  info->add_option("MODEL", info_model, "checkpoint folder or Hugging Face id")->required();
  info->add_flag("--json", info_json, "print JSON");
  info->add_flag("--offline", offline, kOfflineHelp);

  SweepFlags sf;
  auto* sweep = app.add_subcommand("sweep", "the same analysis over an ordered series of checkpoints");
  sweep->add_option("MODEL", sf.models, "a Hugging Face id with --revisions, or checkpoint folders in order")
      ->required();
  sweep->add_option("--revisions", sf.revisions, "comma-separated revisions of MODEL (step0,step1000,...)");
  sf.input.add_to(*sweep);
  sf.output.add_to(*sweep);
  sweep->add_option("--threads", sf.threads, kThreadsHelp)->check(CLI::Range(0, 1024));
  sweep->add_flag("--quiet", sf.quiet, "no progress on stderr");
  sweep->add_flag("--offline", offline, kOfflineHelp);
  sweep->add_flag("--resume", sf.resume, kResumeHelp)->group("Distributed");

  CompareFlags cf;
  auto* compare = app.add_subcommand("compare", "per-layer and per-head differences between two models (B - A)");
  compare->add_option("A", cf.a, "checkpoint folder or Hugging Face id")->required();
  compare->add_option("B", cf.b, "checkpoint folder or Hugging Face id of the same architecture")->required();
  cf.input.add_to(*compare);
  cf.output.add_to(*compare);
  compare->add_option("--threads", cf.threads, kThreadsHelp)->check(CLI::Range(0, 1024));
  compare->add_flag("--quiet", cf.quiet, "no progress on stderr");
  compare->add_flag("--offline", offline, kOfflineHelp);

  std::string download_id;
  bool download_quiet = false;
  auto* download = app.add_subcommand(
      "download", "fetch a model from the Hugging Face Hub into its cache (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE)");
  download->add_option("ID", download_id, "Hugging Face id, ORG/NAME[@REVISION]")->required();
  download->add_flag("--offline", offline, "only check that the cache holds it (also HF_HUB_OFFLINE=1)");
  download->add_flag("--quiet", download_quiet, "no progress bars on stderr");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  // Ids that are not cached are downloaded by resolve_model unless --offline.
  bentov::io::set_default_resolve_options(
      {!offline, !(af.quiet || tf.quiet || sf.quiet || cf.quiet || download_quiet)});

  std::optional<bentov::distrib::Session> session;  // MPI under mpirun (distrib/session.h)
  try {
    if (*analyze || *sweep) session.emplace();
    if (*analyze) return run_analyze(af, *session);
    if (*attention) return run_attention(tf);
    if (*tokenize) return run_tokenize(tok_model, tok_input);
    if (*info) return run_info(info_model, info_json);
    if (*sweep) return run_sweep(sf, *session);
    if (*compare) return run_compare(cf);
    if (*download) return run_download(download_id, offline, download_quiet);
  } catch (const bentov::Error& e) {
    print_error(e.what(), e.hint());
    return e.kind() == bentov::ErrorKind::kUsage ? kExitUsage : kExitNothing;
  } catch (const std::bad_alloc&) {
    print_error("out of memory", "use a shorter text or a smaller model");
    return kExitNothing;
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what(), "please report this with the command line");
    return kExitNothing;
  }
  return kExitUsage;
}
