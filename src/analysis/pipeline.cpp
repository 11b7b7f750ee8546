#include "bentov/analysis/pipeline.h"

#include <chrono>

#include "bentov/error.h"
#include "bentov/io/hf_cache.h"
#include "bentov/metrics/signature_observer.h"
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

ModelReport analyze_model(const std::string& spec, const TextSource& source,
                                  const RunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const io::ResolvedModel resolved = io::resolve_model(spec);
  say(options, resolved.name + ": loading " + resolved.folder.string());
  const Model model = Model::load(resolved.folder);
  const auto& cfg = model.config();
  std::vector<std::int32_t> ids;
  try {
    ids = input_ids_for(resolved.folder, source);
  } catch (const Error& e) {
    rethrow_with_context(e, resolved.name);
  }
  if (ids.size() < 2) {
    throw InputError(resolved.name + ": the text has " + std::to_string(ids.size()) +
                         " token(s); locality needs at least 2",
                     "give a longer text");
  }
  try {
    model.check_input(ids);
  } catch (const Error& e) {
    rethrow_with_context(e, resolved.name);
  }
  say(options, resolved.name + ": " + std::to_string(cfg.n_layers) + " layers x " +
                   std::to_string(cfg.n_heads) + " heads, " + std::to_string(ids.size()) + " tokens");

  metrics::SignatureObserver observer(model.value_frob_sq());
  model.forward(ids, &observer, ForwardOptions{options.threads});

  ModelReport r;
  r.name = resolved.name;
  r.source = resolved.source;
  r.architecture = cfg.architecture;
  r.n_layers = cfg.n_layers;
  r.n_heads = cfg.n_heads;
  r.token_ids = ids;
  r.layers = observer.take_layers();
  compute_l_star(r);
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
      std::string line = e.what();
      if (!e.hint().empty()) line += " (hint: " + e.hint() + ")";
      say(options, "error: " + line);
      out.failures.push_back({specs[i], line});
    }
  }
  compute_mean_deviation(out);
  return out;
}

}  // namespace bentov::analysis
