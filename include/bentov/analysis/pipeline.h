// The analysis of one text through several models, each model isolated: a model that fails
// (missing files, unsupported architecture, too many tokens) becomes a FailureReport while
// the others still run. One forward pass per model; metrics stream from the observer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bentov/analysis/corpus.h"
#include "bentov/analysis/corpus_stats.h"
#include "bentov/analysis/results.h"
#include "bentov/backend/device.h"
#include "bentov/error.h"
#include "bentov/io/hf_cache.h"
#include "bentov/model/model.h"
#include "bentov/model/observer.h"
#include "bentov/tokenizer/tokenizer.h"

namespace bentov::analysis {

// What to run: a text (tokenized by each model's own tokenizer) or ids given directly.
struct TextSource {
  std::optional<std::string> text;
  std::optional<std::vector<std::int32_t>> ids;
};

// What an extra consumer of a model's forward pass is told before it (RunOptions::observe_pass).
struct PassContext {
  const ModelReport& header;            // name, source, architecture, n_layers, n_heads
  std::span<const std::int32_t> ids;    // (n) the ids the model sees
  const std::filesystem::path& folder;  // the resolved model folder (its tokenizer files)
};

struct RunOptions {
  int threads = 0;                                   // CPU workers (0: the cores available)
  std::function<void(const std::string&)> progress;  // one line per step; may be empty
  Device device = {};                                // where forward passes run (resolved: cpu or cuda:N)
  ComputeDtype dtype = ComputeDtype::kFloat32;       // bf16 on the CPU or a GPU, fp16 on a GPU only
  // analyze_models / analyze_corpus: after each model, analyzed or failed (done counts from
  // 1 to total); may be empty. An exception it throws ends the run.
  std::function<void(std::size_t done, std::size_t total)> on_model_done;
  // analyze_models / analyze_corpus: a model that fails throws its error instead of becoming
  // a FailureReport (the Python API raises it).
  bool rethrow_failures = false;
  // Each text's mean next-token cross-entropy through the model's output head (--loss); a
  // model without one fails.
  bool loss = false;
  // analyze_model (one text): called before the model's forward pass; a non-null observer it
  // returns sees that same pass beside the metrics (model/fan_out_observer.h), e.g. the HTML
  // report's pattern capture. The caller owns it. May be empty.
  std::function<AttentionObserver*(const PassContext&)> observe_pass;
  // How model ids missing from the Hugging Face cache are fetched (the CLI's --offline, --quiet).
  io::ResolveOptions resolve;
  // --max-positions: texts up to this many tokens on a rotary-position model past its
  // max_position_embeddings, said through `warning`; a learned-position model refuses
  // (Model::extend_positions). 0: the model's own limit.
  int max_positions = 0;
  std::function<void(const std::string&)> warning;  // lines --quiet does not silence; may be empty
};

// RunOptions::max_positions applied to a loaded model: extended (with a warning naming `name`)
// or refused with a UsageError.
void apply_max_positions(Model& model, const std::string& name, const RunOptions& options);

// A model resolved (folder or Hugging Face id) and loaded, with its tokenizer when asked for.
struct OpenedModel {
  io::ResolvedModel resolved;
  Model model;
  std::optional<Tokenizer> tokenizer;
};
enum class TokenizerUse {
  kNone,       // not loaded (ids, or input_ids_for later)
  kIfPresent,  // loaded when the folder has tokenizer files
  kRequired,   // an IoError naming the folder when it has none
};
// Resolves `spec` with `resolve`, says "<name>: loading <folder>" through `progress` (may be
// empty), loads the checkpoint and, as `tokenizer` asks, its tokenizer; `needed_for` is the
// hint of a missing required tokenizer. The one place commands open a model.
OpenedModel open_model(const std::string& spec, const io::ResolveOptions& resolve,
                       const std::function<void(const std::string&)>& progress,
                       TokenizerUse tokenizer = TokenizerUse::kNone, const std::string& needed_for = "");

// The model folder's tokenizer applied to the text, or the ids as given.
std::vector<std::int32_t> input_ids_for(const std::filesystem::path& folder, const TextSource& source);

// Resolves `spec` (folder or Hugging Face id), runs the text, returns its report. Throws
// bentov::Error (with the model named) on failure.
ModelReport analyze_model(const std::string& spec, const TextSource& source,
                                  const RunOptions& options);

// Every spec in order; failures are collected, not thrown. Fills L* and the mean deviation.
AnalysisReport analyze_models(const std::vector<std::string>& specs, const TextSource& source,
                                      const RunOptions& options);

// A corpus run (`analyze --corpus F`): every text through every model.
struct CorpusOptions {
  int max_tokens = 0;           // > 0: keep each text's first max_tokens tokens
  int bootstrap = 1000;         // B, >= 1
  std::uint64_t seed = 0;       // IndexSampler seed
  // Called after each text of each model (e.g. to stream per-text metrics); may be empty.
  std::function<void(const ModelReport& model, const TextSignature& text)> on_text;
};

// One model over the corpus: the model and its tokenizer are loaded once, then each text is
// tokenized, cut to max_tokens and to the model's positions (counted as truncated), skipped
// when it has fewer than 2 tokens (counted), and run through one forward pass whose
// SignatureObserver is reduced to a TextSignature; only those are kept. Progress: one line
// per text with the elapsed time and an ETA. The report's `layers` are the corpus means
// (mean_layers), its L* the argmax rule on the mean locality profile, `token_ids` empty,
// `corpus` the summary, `estimators` those of the mean profiles. Throws bentov::Error (with
// the model named) when the model cannot be loaded or no text is long enough.
ModelReport analyze_model_corpus(const std::string& spec, const Corpus& corpus,
                                 const RunOptions& options, const CorpusOptions& corpus_options);

// The two halves of analyze_model_corpus, for callers that split a corpus into ranges of
// texts run in different places (distrib/): a CorpusModelRun per place runs its ranges, and
// finish_model_corpus turns the texts of every range, concatenated in corpus order, into the
// same ModelReport analyze_model_corpus returns.
struct CorpusTexts {
  std::vector<TextSignature> texts;  // in corpus order
  int skipped = 0;                   // texts with fewer than 2 tokens (after the cut)
  int truncated = 0;                 // texts cut to max_tokens or the model's positions
};

class CorpusModelRun {
 public:
  // Resolves and loads `spec` and its tokenizer. Throws bentov::Error (model named).
  CorpusModelRun(const std::string& spec, const RunOptions& options, const CorpusOptions& corpus_options);
  ~CorpusModelRun();
  CorpusModelRun(CorpusModelRun&&) noexcept;
  CorpusModelRun& operator=(CorpusModelRun&&) noexcept;

  // name, source, architecture, n_layers and n_heads; the rest empty.
  const ModelReport& header() const;
  const std::vector<double>& value_frob_sq() const;  // (n_layers)
  std::size_t cut() const;  // tokens kept per text: max_tokens or the model's positions (0: no cut)

  // Texts [begin, end) of `corpus`, each as analyze_model_corpus does it (tokenize, cut,
  // skip, forward, on_text), appended to `out`. Throws bentov::Error at the first text the
  // model refuses; the texts before it stay in `out`.
  void run_texts(const Corpus& corpus, std::size_t begin, std::size_t end, CorpusTexts& out) const;

 private:
  struct State;
  struct PendingText;  // a text tokenized and checked, waiting for its forward pass
  // The forward pass(es) of `pack` (texts [begin, end) are being run), then each text's
  // signature, on_text and progress line, in corpus order; empties `pack`.
  void run_pack(std::vector<PendingText>& pack, std::size_t begin, std::size_t end, CorpusTexts& out) const;
  std::unique_ptr<State> state_;
};

// Summary (bootstrap included), mean profile, L* and estimators of one model's texts, as
// analyze_model_corpus fills them. Throws InputError naming the model when `texts` holds no
// text.
ModelReport finish_model_corpus(ModelReport header, CorpusTexts texts, const std::vector<double>& value_frob_sq,
                                const Corpus& corpus, const CorpusOptions& corpus_options);

// A bentov::Error as the failure a run reports.
inline Failure failure_of(const Error& e) { return {e.what(), e.hint()}; }

// Every spec in order, failures collected; fills the mean deviation and the cross-model
// summary. The report's text is nullopt and corpus_file the corpus file.
AnalysisReport analyze_corpus(const std::vector<std::string>& specs, const Corpus& corpus,
                              const RunOptions& options, const CorpusOptions& corpus_options);

}  // namespace bentov::analysis
