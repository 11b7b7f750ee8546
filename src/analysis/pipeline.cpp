#include "bentov/analysis/pipeline.h"

#include <algorithm>
#include <deque>
#include <chrono>
#include <cstdio>

#include "bentov/error.h"
#include "bentov/analysis/l_star.h"
#include "bentov/io/hf_cache.h"
#include "bentov/metrics/attention_metrics.h"
#include "bentov/metrics/signature_observer.h"
#include "bentov/model/fan_out_observer.h"
#include "bentov/model/model.h"
#include "bentov/tokenizer/tokenizer.h"

namespace bentov::analysis {
namespace fs = std::filesystem;

namespace {

void say(const RunOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

std::string fmt_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

// "12 s", "3 min 05 s", "1 h 02 min" for an ETA.
std::string fmt_duration(double s) {
  char buf[48];
  if (!(s >= 0.0)) s = 0.0;
  if (s < 60.0) {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  } else if (s < 3600.0) {
    const int m = static_cast<int>(s / 60.0);
    std::snprintf(buf, sizeof buf, "%d min %02d s", m, static_cast<int>(s - 60.0 * m));
  } else {
    const int h = static_cast<int>(s / 3600.0);
    std::snprintf(buf, sizeof buf, "%d h %02d min", h, static_cast<int>((s - 3600.0 * h) / 60.0));
  }
  return buf;
}

void add_failure(AnalysisReport& out, const RunOptions& options, const std::string& spec,
                 const Error& e) {
  if (options.rethrow_failures) throw;
  const Failure failure = failure_of(e);
  say(options, "error: " + failure.line());
  out.failures.push_back({spec, failure});
}

}  // namespace

std::vector<std::int32_t> input_ids_for(const fs::path& folder, const TextSource& source) {
  if (source.ids) return *source.ids;
  if (!Tokenizer::available(folder)) {
    throw IoError("no tokenizer files (tokenizer.json or vocab.json + merges.txt) in '" +
                      folder.string() + "'",
                  "pass token ids with --ids, or add the model's tokenizer files");
  }
  return Tokenizer::load(folder).encode(source.text.value_or(""));
}

namespace {

void require_output_head(const Model& model, const std::string& name) {
  if (!model.has_output_head()) {
    throw UnsupportedError(name + ": the checkpoint has no output head (lm_head / embed_out, and its embeddings are not tied), so --loss cannot be computed",
                           "use the *ForCausalLM checkpoint, or run without --loss");
  }
}

// The fields of a model's report that come from its name and config.
ModelReport report_header(const io::ResolvedModel& resolved, const ModelConfig& cfg) {
  ModelReport r;
  r.name = resolved.name;
  r.source = resolved.source;
  r.architecture = cfg.architecture;
  r.n_layers = cfg.n_layers;
  r.n_heads = cfg.n_heads;
  return r;
}

}  // namespace

void apply_max_positions(Model& model, const std::string& name, const RunOptions& options) {
  const int before = model.config().max_positions;
  if (options.max_positions <= before) return;
  model.extend_positions(options.max_positions);
  if (options.warning) {
    options.warning(name + ": --max-positions " + std::to_string(options.max_positions) +
                    " goes past max_position_embeddings (" + std::to_string(before) +
                    "): the rotation extrapolates to positions the model never saw in training");
  }
}

OpenedModel open_model(const std::string& spec, const io::ResolveOptions& resolve,
                       const std::function<void(const std::string&)>& progress, TokenizerUse tokenizer,
                       const std::string& needed_for) {
  io::ResolvedModel resolved = io::resolve_model(spec, resolve);
  if (progress) progress(resolved.name + ": loading " + resolved.folder.string());
  Model model = Model::load(resolved.folder);
  std::optional<Tokenizer> tok;
  const bool available = tokenizer != TokenizerUse::kNone && Tokenizer::available(resolved.folder);
  if (tokenizer == TokenizerUse::kRequired && !available) {
    throw IoError(resolved.name + ": no tokenizer files (tokenizer.json or vocab.json + merges.txt) in '" +
                      resolved.folder.string() + "'",
                  needed_for);
  }
  if (available) tok.emplace(Tokenizer::load(resolved.folder));
  return {std::move(resolved), std::move(model), std::move(tok)};
}

ModelReport analyze_model(const std::string& spec, const TextSource& source,
                                  const RunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  OpenedModel opened = open_model(spec, options.resolve, options.progress);
  apply_max_positions(opened.model, opened.resolved.name, options);
  const io::ResolvedModel& resolved = opened.resolved;
  const Model& model = opened.model;
  const auto& cfg = model.config();
  std::vector<std::int32_t> ids;
  try {
    ids = input_ids_for(resolved.folder, source);
  } catch (const Error& e) {
    rethrow_with_context(e, resolved.name);
  }
  metrics::require_min_tokens(ids.size(), resolved.name + ": ");
  try {
    model.check_input(ids);
  } catch (const Error& e) {
    rethrow_with_context(e, resolved.name);
  }
  say(options, resolved.name + ": " + std::to_string(cfg.n_layers) + " layers x " +
                   std::to_string(cfg.n_heads) + " heads, " + std::to_string(ids.size()) + " tokens");

  std::string widening;
  if (!options.device.is_cuda() && options.dtype == ComputeDtype::kFloat32) {  // bf16 reads bf16 copies
    widening = model.weight_widening(static_cast<int>(ids.size()), options.threads);
    if (widening == "on use") {
      say(options, resolved.name + ": weights widened on use in every pass (their float32 copies do not fit in memory)");
    } else if (widening == "once") {
      say(options, resolved.name + ": weights widened to float32 once for a long or a second pass (they fit in memory)");
    }
  }
  if (options.loss) require_output_head(model, resolved.name);
  ModelReport r = report_header(resolved, cfg);
  metrics::SignatureObserver observer(model.value_frob_sq());
  AttentionObserver* extra = options.observe_pass ? options.observe_pass({r, ids, resolved.folder}) : nullptr;
  FanOutObserver both({&observer, extra});
  const std::vector<float> hidden = model.forward(ids, extra ? static_cast<AttentionObserver*>(&both) : &observer,
                                                  ForwardOptions{options.threads, options.device, options.dtype, options.loss});

  r.token_ids = ids;
  if (options.loss) {
    r.loss = model.next_token_loss(ids, hidden, options.threads);
    r.n_predictions = static_cast<long long>(ids.size()) - 1;
  }
  r.weight_widening = widening;
  r.layers = observer.take_layers();
  compute_l_star(r);
  compute_estimators(r);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  say(options, resolved.name + ": done in " + fmt_seconds(secs) + " (L* empirical " +
                   std::to_string(r.l_star_empirical) + ", L/2 " + std::to_string(r.l_star_theoretical) + ")");
  return r;
}

AnalysisReport analyze_models(const std::vector<std::string>& specs, const TextSource& source,
                                      const RunOptions& options) {
  AnalysisReport out;
  out.text = source.ids ? std::nullopt : source.text;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    say(options, "[" + std::to_string(i + 1) + "/" + std::to_string(specs.size()) + "] " + specs[i]);
    try {
      out.models.push_back(analyze_model(specs[i], source, options));
    } catch (const Error& e) {
      add_failure(out, options, specs[i], e);
    }
    if (options.on_model_done) options.on_model_done(i + 1, specs.size());
  }
  compute_mean_deviation(out);
  return out;
}

struct CorpusModelRun::State {
  RunOptions options;
  CorpusOptions co;
  std::chrono::steady_clock::time_point t0;
  io::ResolvedModel resolved;
  Model model;
  Tokenizer tokenizer;
  std::vector<double> frob;
  ModelReport header;
  std::size_t cut = 0;  // tokens kept per text (0: no cut)
};

CorpusModelRun::CorpusModelRun(const std::string& spec, const RunOptions& options, const CorpusOptions& co) {
  const auto t0 = std::chrono::steady_clock::now();
  OpenedModel opened =
      open_model(spec, options.resolve, options.progress, TokenizerUse::kRequired, "a corpus run needs the model's tokenizer");
  apply_max_positions(opened.model, opened.resolved.name, options);
  io::ResolvedModel resolved = std::move(opened.resolved);
  Model model = std::move(opened.model);
  Tokenizer tokenizer = std::move(*opened.tokenizer);
  if (options.loss) require_output_head(model, resolved.name);
  std::vector<double> frob = model.value_frob_sq();
  const auto& cfg = model.config();
  ModelReport r = report_header(resolved, cfg);
  std::size_t cut = co.max_tokens > 0 ? static_cast<std::size_t>(co.max_tokens) : 0;
  if (cfg.max_positions > 0 && (cut == 0 || cut > static_cast<std::size_t>(cfg.max_positions))) {
    cut = static_cast<std::size_t>(cfg.max_positions);
  }
  state_ = std::unique_ptr<State>(new State{options, co, t0, std::move(resolved), std::move(model),
                                            std::move(tokenizer), std::move(frob), std::move(r), cut});
}

CorpusModelRun::~CorpusModelRun() = default;
CorpusModelRun::CorpusModelRun(CorpusModelRun&&) noexcept = default;
CorpusModelRun& CorpusModelRun::operator=(CorpusModelRun&&) noexcept = default;

const ModelReport& CorpusModelRun::header() const { return state_->header; }
const std::vector<double>& CorpusModelRun::value_frob_sq() const { return state_->frob; }
std::size_t CorpusModelRun::cut() const { return state_->cut; }

namespace {

// Tokens per pack of texts on a GPU: enough rows to fill it with a small model's products.
constexpr std::size_t kPackTokens = 32768;

}  // namespace

struct CorpusModelRun::PendingText {
  std::size_t index;              // in the corpus
  std::vector<std::int32_t> ids;  // (n) cut to the model's limit
  TextSignature signature;        // line and truncation so far
  std::string head;               // its progress line's start
};

void CorpusModelRun::run_pack(std::vector<PendingText>& pack, std::size_t begin, std::size_t end,
                              CorpusTexts& out) const {
  if (pack.empty()) return;
  const State& s = *state_;
  const RunOptions& options = s.options;
  std::deque<metrics::SignatureObserver> observers;  // not movable: a deque keeps them in place
  for (std::size_t k = 0; k < pack.size(); ++k) observers.emplace_back(s.frob);
  std::vector<AttentionObserver*> observed;            // (pack) observers[k]
  std::vector<std::span<const std::int32_t>> texts;  // (pack)
  for (std::size_t k = 0; k < pack.size(); ++k) {
    observed.push_back(&observers[k]);
    texts.emplace_back(pack[k].ids);
  }
  const auto hidden =
      s.model.forward_packed(texts, observed, ForwardOptions{options.threads, options.device, options.dtype, options.loss});
  for (std::size_t k = 0; k < pack.size(); ++k) {
    TextSignature& ts = pack[k].signature;
    if (options.loss) ts.loss = s.model.next_token_loss(pack[k].ids, hidden[k], options.threads);
    ts.n_tokens = static_cast<int>(pack[k].ids.size());
    ts.layers = observers[k].take_layers();
    std::vector<double> locality;
    locality.reserve(ts.layers.size());
    for (const auto& l : ts.layers) locality.push_back(l.locality);
    ts.l_star = l_star_argmax_gradient(locality);
    if (s.co.on_text) s.co.on_text(s.header, ts);
    out.texts.push_back(std::move(ts));
    if (options.progress) {
      const std::size_t i = pack[k].index;
      const double now = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.t0).count();
      const double per_text = now / static_cast<double>(i - begin + 1);
      say(options, pack[k].head + ": L* " + std::to_string(out.texts.back().l_star) + " | " + fmt_duration(now) +
                       " elapsed, ETA " + fmt_duration(per_text * static_cast<double>(end - i - 1)));
    }
  }
  pack.clear();
}

void CorpusModelRun::run_texts(const Corpus& corpus, std::size_t begin, std::size_t end, CorpusTexts& out) const {
  const State& s = *state_;
  const RunOptions& options = s.options;
  const std::string& name = s.resolved.name;
  const std::size_t total = corpus.texts.size();
  end = std::min(end, total);
  // On a GPU texts share passes (Model::forward_packed); elsewhere each runs alone, at once.
  const std::size_t pack_tokens = options.device.is_cuda() ? kPackTokens : 0;
  std::vector<PendingText> pack;
  std::size_t pack_rows = 0;
  for (std::size_t i = begin; i < end; ++i) {
    const CorpusText& ct = corpus.texts[i];
    PendingText t{i, s.tokenizer.encode(ct.text), {}, {}};
    t.signature.line = ct.line;
    if (s.cut && t.ids.size() > s.cut) {
      t.ids.resize(s.cut);
      t.signature.truncated = true;
    }
    t.head = name + ": text " + std::to_string(i + 1) + "/" + std::to_string(total) + " (line " +
             std::to_string(ct.line) + ", " + std::to_string(t.ids.size()) + " tokens)";
    if (t.ids.size() < metrics::kMinTokens) {
      ++out.skipped;
      say(options, t.head + " skipped: fewer than " + std::to_string(metrics::kMinTokens) + " tokens");
      continue;
    }
    try {
      s.model.check_input(t.ids);
    } catch (const Error& e) {
      run_pack(pack, begin, end, out);  // the texts before it stay in `out`
      rethrow_with_context(e, name + ": corpus line " + std::to_string(ct.line));
    }
    if (t.signature.truncated) ++out.truncated;
    pack_rows += t.ids.size();
    pack.push_back(std::move(t));
    if (pack_rows >= pack_tokens) {
      run_pack(pack, begin, end, out);
      pack_rows = 0;
    }
  }
  run_pack(pack, begin, end, out);
}

ModelReport finish_model_corpus(ModelReport r, CorpusTexts texts, const std::vector<double>& frob,
                                const Corpus& corpus, const CorpusOptions& co) {
  if (texts.texts.empty()) {
    throw InputError(r.name + ": no text of the corpus has 2 or more tokens (" + std::to_string(texts.skipped) +
                         " skipped)",
                     "give a corpus with longer texts, one per line");
  }
  CorpusSummary summary = summarize_corpus(texts.texts, co.bootstrap, co.seed);
  summary.file = corpus.file;
  summary.n_skipped_short = texts.skipped;
  summary.n_truncated = texts.truncated;
  summary.max_tokens = co.max_tokens;
  r.layers = mean_layers(summary, frob);
  if (summary.loss) {
    r.loss = summary.loss->mean;
    for (const auto& t : texts.texts) r.n_predictions += t.n_tokens - 1;
  }
  r.corpus = std::move(summary);
  compute_l_star(r);
  compute_estimators(r);
  return r;
}

ModelReport analyze_model_corpus(const std::string& spec, const Corpus& corpus,
                                 const RunOptions& options, const CorpusOptions& co) {
  const auto t0 = std::chrono::steady_clock::now();
  const CorpusModelRun run(spec, options, co);
  const ModelReport& header = run.header();
  say(options, header.name + ": " + std::to_string(header.n_layers) + " layers x " +
                   std::to_string(header.n_heads) + " heads, " + std::to_string(corpus.texts.size()) + " texts" +
                   (run.cut() ? ", at most " + std::to_string(run.cut()) + " tokens each" : ""));
  CorpusTexts texts;
  texts.texts.reserve(corpus.texts.size());
  run.run_texts(corpus, 0, corpus.texts.size(), texts);
  const int skipped = texts.skipped, truncated = texts.truncated;
  ModelReport r = finish_model_corpus(header, std::move(texts), run.value_frob_sq(), corpus, co);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto& ls = r.corpus->l_star;
  say(options, r.name + ": " + std::to_string(r.corpus->n_texts) + " texts in " +
                   fmt_seconds(secs) + " (L* of the mean profile " + std::to_string(ls.mean_profile) +
                   ", 95% CI [" + std::to_string(ls.ci_lo) + ", " + std::to_string(ls.ci_hi) +
                   "], L/2 " + std::to_string(r.l_star_theoretical) + "; " +
                   std::to_string(skipped) + " skipped, " + std::to_string(truncated) + " truncated)");
  return r;
}

AnalysisReport analyze_corpus(const std::vector<std::string>& specs, const Corpus& corpus,
                              const RunOptions& options, const CorpusOptions& co) {
  AnalysisReport out;
  out.text = std::nullopt;
  out.corpus_file = corpus.file;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    say(options, "[" + std::to_string(i + 1) + "/" + std::to_string(specs.size()) + "] " + specs[i]);
    try {
      out.models.push_back(analyze_model_corpus(specs[i], corpus, options, co));
    } catch (const Error& e) {
      add_failure(out, options, specs[i], e);
    }
    if (options.on_model_done) options.on_model_done(i + 1, specs.size());
  }
  compute_mean_deviation(out);
  out.cross_model = cross_model_summary(out.models);
  return out;
}

}  // namespace bentov::analysis
