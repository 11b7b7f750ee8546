// The bentov command line's pieces (tools/cli): flags of each subcommand and the functions that
// run them. main.cpp wires them to CLI11 and is the only place that catches errors (printing
// one line and a hint, returning the exit codes of DESIGN.md section 2).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bentov/analysis/pipeline.h"
#include "bentov/distrib/run.h"
#include "bentov/exit_codes.h"
#include "bentov/io/hf_cache.h"
#include "bentov/report/summary_table.h"

namespace bentov::cli {

namespace fs = std::filesystem;

using bentov::kExitNothing;
using bentov::kExitOk;
using bentov::kExitSomeFailed;
using bentov::kExitUsage;

constexpr const char* kThreadsHelp =
    "worker threads (default: the cores this process may run on); the numbers do not depend on it";

constexpr const char* kDeviceHelp =
    "where the forward passes run: cpu (default), cuda (= cuda:0), cuda:N, or auto (a GPU when there is one)";

constexpr const char* kDtypeHelp =
    "the arithmetic: fp32 (default, the exact mode), or bf16 / fp16 products with float32 accumulation: bf16 on "
    "the CPU (oneDNN: AMX or AVX512-BF16) or a GPU, fp16 on a GPU (tensor cores)";

// The resolved --device (cpu or cuda:N); a clean error when no GPU can be used.
Device device_of(const std::string& flag);
// The --dtype for the resolved device; a UsageError for bf16 / fp16 on the CPU.
bentov::ComputeDtype dtype_of(const std::string& flag, const Device& device);

constexpr const char* kMaxPositionsHelp =
    "let texts run to N tokens on a rotary-position model past its max_position_embeddings (with a warning: "
    "those positions were never trained); a learned-position model refuses";

// The flags of every command that runs a model: --threads, --device, --dtype, --max-positions
// and --quiet.
struct EngineFlags {
  int threads = 0;
  std::string device = "cpu";
  std::string dtype = "fp32";
  int max_positions = 0;  // 0: the model's own max_position_embeddings
  bool quiet = false;
  void add_to(CLI::App& cmd);
  // The engine's options from these flags, --loss, and how ids reach the Hub.
  bentov::analysis::RunOptions run_options(bool loss, const io::ResolveOptions& resolve) const;
};

constexpr const char* kHtmlHelp =
    "write the interactive report: one offline HTML file (curves, every head's attention, readouts)";

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

// Output paths of sweep/compare: explicit flags, else defaults under --out.
struct OutputFlags {
  std::optional<std::string> json, plot, html, out;
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
  std::optional<fs::path> html_path() const {
    if (html) return fs::path(*html);
    if (out) return fs::path(*out) / "report.html";
    return std::nullopt;
  }
  void add_to(CLI::App& cmd) {
    cmd.add_option("--json", json, "write results as JSON")->group("Output");
    cmd.add_option("--plot", plot, "write the figure (.png or .svg)")->group("Output");
    cmd.add_option("--html", html, kHtmlHelp)->group("Output");
    cmd.add_option("--out", out, "write the JSON, the figure and report.html here under default names")->group("Output");
  }
};

// --corpus and its options on sweep and compare (analyze has its own, with --per-text).
struct CorpusFlags {
  std::optional<std::string> corpus;
  std::size_t max_texts = 0;
  int max_tokens = 0;
  int bootstrap = 1000;
  std::uint64_t seed = 0;
  void add_to(CLI::App& cmd);
  analysis::CorpusOptions options() const;
  analysis::Corpus read(bool quiet) const;  // the corpus file, with a progress line; InputError when empty
};

struct AnalyzeFlags {
  std::vector<std::string> models;
  TextFlags input;
  EngineFlags engine;
  std::optional<std::string> json, csv, plot, html, out;
  bool loss = false;  // --loss: each text's next-token cross-entropy
  // Corpus runs and estimators.
  std::optional<std::string> corpus, per_text;
  std::size_t max_texts = 0;
  int max_tokens = 0;
  int bootstrap = 1000;
  std::uint64_t seed = 0;
  bool estimators = false;
  // Distributed and resumable runs (distrib/run.h).
  bool resume = false;
  std::size_t shard_texts = bentov::distrib::kDefaultShardTexts;
};

struct AttentionFlags {
  std::string model;
  TextFlags input;
  EngineFlags engine;
  std::string out;
};

struct SweepFlags {
  std::vector<std::string> models;  // MODEL (with --revisions) or checkpoint folders
  std::optional<std::string> revisions;
  TextFlags input;
  EngineFlags engine;
  OutputFlags output;
  bool loss = false;  // --loss: each text's next-token cross-entropy
  CorpusFlags corpus;  // --corpus: paired statistics over texts
  bool resume = false;
};

struct CompareFlags {
  std::string a, b;
  TextFlags input;
  EngineFlags engine;
  OutputFlags output;
  bool loss = false;  // --loss: each text's next-token cross-entropy
  CorpusFlags corpus;  // --corpus: paired statistics over texts
};

// common.cpp
// The text of --text / --text-file / --ids; the notebook's sentence when none is given and
// default_sentence is set.
analysis::TextSource text_source(const TextFlags& f, bool default_sentence);
std::function<void(const std::string&)> progress_printer(bool quiet);
// The demo models shipped in models/ (installed, configured or in the source tree).
std::vector<std::string> demo_models();
// Every model failed: prints the one error line (and hint), returns kExitNothing.
int nothing_analyzed(const report::AnalysisReport& report);
void print_error(const std::string& message, const std::string& hint);

// One function per subcommand, each returning its exit code. `resolve` says whether ids missing
// from the cache are downloaded (--offline) and with progress bars (--quiet).
int run_analyze(const AnalyzeFlags& f, const io::ResolveOptions& resolve, distrib::Session& session);  // analyze_command.cpp
int run_sweep(const SweepFlags& f, const io::ResolveOptions& resolve, distrib::Session& session);  // sweep_compare_commands.cpp
int run_compare(const CompareFlags& f, const io::ResolveOptions& resolve);  // sweep_compare_commands.cpp
int run_attention(const AttentionFlags& f, const io::ResolveOptions& resolve);  // model_commands.cpp
// Prints the ids as a JSON array; with `tokens`, each token as the tokenizer's decoder shows
// it instead (a JSON array of strings).
int run_tokenize(const std::string& dir_or_id, const TextFlags& input, const io::ResolveOptions& resolve,
                 bool tokens = false);
int run_info(const std::string& spec, bool as_json, const io::ResolveOptions& resolve);
int run_download(const std::string& spec, bool offline, bool quiet);

}  // namespace bentov::cli
