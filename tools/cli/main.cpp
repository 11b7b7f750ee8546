// bentov command line: parses flags (CLI11), runs the subcommand (tools/cli/*.cpp), and is the
// only place that catches errors (printing one line and a hint, returning the exit codes of
// DESIGN.md section 2).
#include <iostream>
#include <limits>
#include <optional>
#include <string>

#include "bentov/error.h"
#include "bentov/io/hf_cache.h"
#include "bentov/ops/bf16_gemm.h"
#include "bentov/ops/blas_kernels.h"
#include "bentov/version.h"
#include "cli.h"

using namespace bentov::cli;

int main(int argc, char** argv) {
  bentov::ops::reexec_for_blas_kernels(argv);  // before any thread or file exists
  CLI::App app{"bentov: where a transformer's attention turns from local to global (the Bentov Point)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("bentov ") + BENTOV_VERSION + " (OpenBLAS kernels: " +
                                        bentov::ops::blas_core_name() +
                                        ", bf16 products: " + bentov::ops::bf16_products_isa() + ")");

  constexpr const char* kLossHelp =
      "each text's mean next-token cross-entropy (nats per token) and perplexity, through the model's output head";
  AnalyzeFlags af;
  auto* analyze = app.add_subcommand("analyze", "per-layer attention signatures and L* for each MODEL");
  analyze->add_option("MODEL", af.models, "checkpoint folders or Hugging Face ids (default: the demo models)");
  af.input.add_to(*analyze);
  analyze->add_option("--json", af.json, "write results as JSON")->group("Output");
  analyze->add_option("--csv", af.csv, "write one row per (model, layer) as CSV")->group("Output");
  analyze->add_option("--plot", af.plot, "write the 2x2 figure (.png or .svg)")->group("Output");
  analyze->add_option("--html", af.html, kHtmlHelp)->group("Output");
  analyze->add_option("--out", af.out,
                      "write results.json, layers.csv, bentov_point_analysis.png and report.html here (corpus "
                      "runs: also per_text.jsonl and the corpus figures)")
      ->group("Output");
  af.engine.add_to(*analyze);
  analyze->add_flag("--loss", af.loss, kLossHelp);
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
  tf.engine.add_to(*attention);
  attention->add_flag("--offline", offline, kOfflineHelp);

  std::string tok_model;
  TextFlags tok_input;
  auto* tokenize = app.add_subcommand("tokenize", "print the token ids of a text as a JSON array");
  tokenize->add_option("MODEL_OR_TOKENIZER_DIR", tok_model, "folder with tokenizer files, or a Hugging Face id")
      ->required();
  tok_input.add_to(*tokenize);
  bool tok_tokens = false;
  tokenize->add_flag("--tokens", tok_tokens, "print each token as the tokenizer's decoder shows it, not the ids");
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
  sf.engine.add_to(*sweep);
  sweep->add_flag("--loss", sf.loss, kLossHelp);
  sf.corpus.add_to(*sweep);
  sweep->add_flag("--offline", offline, kOfflineHelp);
  sweep->add_flag("--resume", sf.resume, kResumeHelp)->group("Distributed");

  CompareFlags cf;
  auto* compare = app.add_subcommand("compare", "per-layer and per-head differences between two models (B - A)");
  compare->add_option("A", cf.a, "checkpoint folder or Hugging Face id")->required();
  compare->add_option("B", cf.b, "checkpoint folder or Hugging Face id of the same architecture")->required();
  cf.input.add_to(*compare);
  cf.output.add_to(*compare);
  cf.engine.add_to(*compare);
  compare->add_flag("--loss", cf.loss, kLossHelp);
  cf.corpus.add_to(*compare);
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
  const bentov::io::ResolveOptions resolve{!offline, !(af.engine.quiet || tf.engine.quiet || sf.engine.quiet || cf.engine.quiet || download_quiet)};

  std::optional<bentov::distrib::Session> session;  // MPI under mpirun (distrib/session.h)
  try {
    if (*analyze || *sweep) session.emplace();
    if (*analyze) return run_analyze(af, resolve, *session);
    if (*attention) return run_attention(tf, resolve);
    if (*tokenize) return run_tokenize(tok_model, tok_input, resolve, tok_tokens);
    if (*info) return run_info(info_model, info_json, resolve);
    if (*sweep) return run_sweep(sf, resolve, *session);
    if (*compare) return run_compare(cf, resolve);
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
