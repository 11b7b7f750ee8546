// bentov._bentov: the thin compiled layer under the `bentov` Python package (python/bentov/).
// It converts arguments, releases the GIL around all engine work, turns bentov::Error into the
// package's exception classes, and hands results back as the CLI's JSON text (parsed on the
// Python side) or, for attention, as numpy arrays that own their buffers.
//
// Progress and interruption: callbacks from the engine (after each text of a corpus, after each
// model) take the GIL, run PyErr_CheckSignals (so Ctrl-C stops a run between texts) and call the
// Python callable; an exception from either unwinds the engine as a C++ exception and reaches
// Python unchanged. Output files are only ever written atomically (io/atomic_file.h), so an
// interrupted run leaves none half-written.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bentov/analysis/compare.h"
#include "bentov/analysis/corpus.h"
#include "bentov/analysis/pipeline.h"
#include "bentov/analysis/series.h"
#include "bentov/backend/device.h"
#include "bentov/error.h"
#include "bentov/io/hf_cache.h"
#include "bentov/io/memory.h"
#include "bentov/model/model.h"
#include "bentov/model/observer.h"
#include "bentov/report/csv_writer.h"
#include "bentov/report/json_writer.h"
#include "bentov/report/sweep_compare.h"
#include "bentov/tokenizer/tokenizer.h"
#include "bentov/version.h"

namespace py = pybind11;
namespace fs = std::filesystem;
using bentov::analysis::RunOptions;
using bentov::analysis::TextSource;

namespace {

// ---- errors ---------------------------------------------------------------------------------

// bentov.errors' class for each ErrorKind, looked up once at import.
// Never freed: the interpreter may be gone when static destructors run.
py::object& error_class(bentov::ErrorKind kind) {
  static auto* classes = new std::vector<py::object>;
  if (classes->empty()) {
    const py::module_ errors = py::module_::import("bentov.errors");
    for (const char* name : {"UsageError", "FileError", "FormatError", "ConfigError", "UnsupportedError", "InputError"}) {
      classes->push_back(errors.attr(name));  // in ErrorKind's order
    }
  }
  return classes->at(static_cast<std::size_t>(kind));
}

void translate_errors(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const bentov::Error& e) {
    py::object& cls = error_class(e.kind());
    const py::object exc = cls(std::string(e.what()), e.hint());
    PyErr_SetObject(cls.ptr(), exc.ptr());
  }
}

// ---- inputs ---------------------------------------------------------------------------------

TextSource text_source(const std::optional<std::string>& text, const std::optional<std::vector<std::int64_t>>& ids) {
  if (text && ids) throw bentov::UsageError("give text or ids, not both", "analyze(models, text=\"...\") or ids=[...]");
  TextSource s;
  if (ids) {
    if (ids->empty()) throw bentov::UsageError("ids is empty", "give at least two token ids");
    std::vector<std::int32_t> v;
    v.reserve(ids->size());
    for (const auto id : *ids) {
      if (id < 0 || id > INT32_MAX) throw bentov::UsageError(std::to_string(id) + " is not a valid token id", "token ids are non-negative");
      v.push_back(static_cast<std::int32_t>(id));
    }
    s.ids = std::move(v);
  } else {
    s.text = text.value_or("");
  }
  return s;
}

bentov::Device device_of(const std::string& name) { return bentov::resolve_device(bentov::parse_device(name)); }

// A Python callable called from engine threads: the GIL taken, signals checked first. The
// engine copies and drops its options without the GIL, so the callable sits behind a
// shared_ptr (copies touch no Python reference count) whose last owner takes the GIL to free it.
template <typename... Args>
std::function<void(Args...)> with_gil(const std::optional<py::function>& fn) {
  std::shared_ptr<py::function> callable;
  if (fn) {
    callable = std::shared_ptr<py::function>(new py::function(*fn), [](py::function* f) {
      const py::gil_scoped_acquire gil;
      delete f;
    });
  }
  return [callable](Args... args) {
    const py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (callable) (*callable)(args...);
  };
}

// Where and how passes run: device, compute dtype and --max-positions, as Python gives them.
struct Engine {
  std::string device = "cpu";
  std::string dtype = "fp32";
  int max_positions = 0;  // 0: the model's own limit
};

RunOptions run_options(int threads, const Engine& engine, const std::optional<py::function>& on_model,
                       bool collect_failures, bool loss) {
  RunOptions o;
  o.loss = loss;
  o.threads = threads;
  o.device = device_of(engine.device);
  o.dtype = bentov::parse_compute_dtype(engine.dtype);
  bentov::check_compute_dtype(o.device, o.dtype);
  if (engine.max_positions < 0) throw bentov::UsageError("max_positions must be positive", "max_positions=None keeps the model's limit");
  o.max_positions = engine.max_positions;
  o.warning = [](const std::string& line) {
    const py::gil_scoped_acquire gil;
    if (PyErr_WarnEx(PyExc_UserWarning, line.c_str(), 1) < 0) throw py::error_already_set();  // warnings as errors
  };
  o.on_model_done = with_gil<std::size_t, std::size_t>(on_model);
  o.rethrow_failures = !collect_failures;
  return o;
}

bentov::analysis::Corpus corpus_of(const std::optional<std::string>& file, const std::optional<std::vector<std::string>>& texts,
                                   std::size_t max_texts) {
  if (file) return bentov::analysis::read_corpus(*file, max_texts);
  bentov::analysis::Corpus c;
  c.file = "<list>";
  for (const auto& t : texts.value_or(std::vector<std::string>{})) {
    if (max_texts && c.texts.size() == max_texts) {
      c.limited = true;
      break;
    }
    if (t.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
      ++c.n_blank;
      continue;
    }
    c.texts.push_back({static_cast<int>(c.texts.size() + c.n_blank + 1), t});
  }
  if (c.texts.empty()) throw bentov::InputError("the corpus has no text", "give non-blank texts, one per item or line");
  return c;
}

// ---- runs: each returns the CLI's JSON text ---------------------------------------------------

std::string analyze(const std::vector<std::string>& specs, const std::optional<std::string>& text,
                    const std::optional<std::vector<std::int64_t>>& ids, int threads, const Engine& engine,
                    const std::optional<py::function>& on_model, bool collect_failures, bool loss) {
  const TextSource source = text_source(text, ids);
  const RunOptions options = run_options(threads, engine, on_model, collect_failures, loss);
  const py::gil_scoped_release nogil;
  return bentov::report::to_json_string(bentov::analysis::analyze_models(specs, source, options));
}

// A corpus as Python gives it (a file or a list of texts) and its options.
struct CorpusArgs {
  std::optional<std::string> file;
  std::optional<std::vector<std::string>> texts;
  std::size_t max_texts = 0;
  int max_tokens = 0;
  int bootstrap = 1000;
  std::uint64_t seed = 0;
};

bentov::analysis::CorpusOptions corpus_options(const CorpusArgs& a) {
  if (a.bootstrap < 1) throw bentov::UsageError("bootstrap must be at least 1", "bootstrap=1000 is the default");
  if (a.max_tokens < 0) throw bentov::UsageError("max_tokens must be positive", "max_tokens=None keeps whole texts");
  bentov::analysis::CorpusOptions co;
  co.max_tokens = a.max_tokens;
  co.bootstrap = a.bootstrap;
  co.seed = a.seed;
  return co;
}

std::string corpus(const std::vector<std::string>& specs, const CorpusArgs& args, int threads, const Engine& engine,
                   const std::optional<py::function>& on_model, const std::optional<py::function>& on_text,
                   bool collect_failures, bool loss) {
  auto co = corpus_options(args);
  const RunOptions options = run_options(threads, engine, on_model, collect_failures, loss);
  const auto c = corpus_of(args.file, args.texts, args.max_texts);
  // (model name, texts of that model done, texts in the corpus)
  const auto text_done = with_gil<std::string, std::size_t, std::size_t>(on_text);
  std::string current;
  std::size_t done = 0;
  co.on_text = [&](const bentov::analysis::ModelReport& m, const bentov::analysis::TextSignature&) {
    if (m.name != current) current = m.name, done = 0;
    text_done(m.name, ++done, c.texts.size());
  };
  const py::gil_scoped_release nogil;
  return bentov::report::to_json_string(bentov::analysis::analyze_corpus(specs, c, options, co));
}

std::string sweep(const std::vector<std::string>& specs, const std::optional<std::string>& text,
                  const std::optional<std::vector<std::int64_t>>& ids, int threads, const Engine& engine,
                  const std::optional<py::function>& on_model, bool collect_failures, bool loss) {
  if (specs.size() < 2) throw bentov::UsageError("a sweep needs at least two checkpoints", "give revisions=[...] or several folders");
  const TextSource source = text_source(text, ids);
  const RunOptions options = run_options(threads, engine, on_model, collect_failures, loss);
  const py::gil_scoped_release nogil;
  return bentov::report::sweep_to_json(bentov::analysis::analyze_models(specs, source, options)).dump(2) + "\n";
}

std::string compare(const std::string& a, const std::string& b, const std::optional<std::string>& text,
                    const std::optional<std::vector<std::int64_t>>& ids, int threads, const Engine& engine,
                    const std::optional<py::function>& on_model, bool loss) {
  const TextSource source = text_source(text, ids);
  const RunOptions options = run_options(threads, engine, on_model, /*collect_failures=*/false, loss);
  const py::gil_scoped_release nogil;
  const auto ra = bentov::analysis::analyze_model(a, source, options);
  options.on_model_done(1, 2);
  const auto rb = bentov::analysis::analyze_model(b, source, options);
  options.on_model_done(2, 2);
  return bentov::report::compare_to_json(bentov::analysis::compare_models(ra, rb)).dump(2) + "\n";
}

std::string sweep_corpus(const std::vector<std::string>& specs, const CorpusArgs& args, int threads,
                         const Engine& engine, const std::optional<py::function>& on_model, bool loss) {
  if (specs.size() < 2) throw bentov::UsageError("a sweep needs at least two checkpoints", "give revisions=[...] or several folders");
  const auto co = corpus_options(args);
  const RunOptions options = run_options(threads, engine, on_model, /*collect_failures=*/false, loss);
  const auto c = corpus_of(args.file, args.texts, args.max_texts);
  const py::gil_scoped_release nogil;
  const auto run = bentov::analysis::sweep_corpus(specs, c, options, co);
  return bentov::report::sweep_to_json(run.report, &run.paired).dump(2) + "\n";
}

std::string compare_corpus(const std::string& a, const std::string& b, const CorpusArgs& args, int threads,
                           const Engine& engine, const std::optional<py::function>& on_model, bool loss) {
  const auto co = corpus_options(args);
  const RunOptions options = run_options(threads, engine, on_model, /*collect_failures=*/false, loss);
  const auto c = corpus_of(args.file, args.texts, args.max_texts);
  const py::gil_scoped_release nogil;
  const auto run = bentov::analysis::compare_corpus(a, b, c, options, co);
  return bentov::report::compare_to_json(run.comparison, &run.paired).dump(2) + "\n";
}

// The CLI's CSV (report/csv_writer.h) of a result read back from its JSON.
std::string csv_from_json(const std::string& json_text) {
  const auto j = nlohmann::json::parse(json_text);
  auto number = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : std::nan(""); };
  bentov::analysis::AnalysisReport r;
  for (const auto& m : j.at("models")) {
    bentov::analysis::ModelReport mr;
    mr.name = m.at("name").get<std::string>();
    for (const auto& l : m.at("layers")) {
      bentov::analysis::LayerSignature ls;
      ls.index = l.at("index").get<int>();
      ls.locality = number(l.at("locality"));
      ls.entropy = number(l.at("entropy"));
      ls.sheaf_trace = number(l.at("sheaf_trace"));
      ls.value_frob_sq = number(l.at("value_frob_sq"));
      mr.layers.push_back(ls);
    }
    r.models.push_back(std::move(mr));
  }
  return bentov::report::to_csv(r);
}

// ---- one loaded model ---------------------------------------------------------------------------

// Keeps the probabilities of the requested layers, each (heads, n, n) in a buffer of its own that
// a numpy array will own.
class LayerCapture : public bentov::AttentionObserver {
 public:
  explicit LayerCapture(std::vector<bool> wanted) : wanted_(std::move(wanted)) {}

  void on_sequence(int n_layers, int n_heads, int n) override {
    heads_ = n_heads;
    n_ = n;
    probs_.resize(static_cast<std::size_t>(n_layers));
    for (std::size_t l = 0; l < probs_.size(); ++l) {
      if (wanted_[l]) probs_[l] = std::make_unique<std::vector<float>>(static_cast<std::size_t>(n_heads) * n * n, 0.0f);
    }
  }

  void on_attention_rows(int layer, int head, int r0, int r1, const float* rows, int n) override {
    auto& buf = probs_[static_cast<std::size_t>(layer)];
    if (!buf) return;
    float* dst = buf->data() + (static_cast<std::size_t>(head) * n + r0) * n;  // (heads, n, n)[head][r0]
    std::copy(rows, rows + static_cast<std::size_t>(r1 - r0) * n, dst);
  }

  int heads() const { return heads_; }
  int n() const { return n_; }
  std::unique_ptr<std::vector<float>> take(std::size_t layer) { return std::move(probs_[layer]); }

 private:
  std::vector<bool> wanted_;                              // (n_layers)
  int heads_ = 0, n_ = 0;
  std::vector<std::unique_ptr<std::vector<float>>> probs_;  // [layer] -> (heads, n, n), null when not wanted
};

// A numpy float32[heads, n, n] array that owns `buf` (no copy): it outlives the model.
py::array_t<float> owning_array(std::unique_ptr<std::vector<float>> buf, int heads, int n) {
  std::vector<float>* raw = buf.release();
  const py::capsule owner(raw, [](void* p) { delete static_cast<std::vector<float>*>(p); });
  const auto sn = static_cast<py::ssize_t>(n);
  const auto item = static_cast<py::ssize_t>(sizeof(float));
  return py::array_t<float>({static_cast<py::ssize_t>(heads), sn, sn}, {sn * sn * item, sn * item, item}, raw->data(),
                            owner);
}

class PyModel {
 public:
  PyModel(const std::string& spec, bool offline, const std::string& device) : device_(device_of(device)) {
    auto opened = bentov::analysis::open_model(spec, bentov::io::ResolveOptions{!offline, true}, {},
                                               bentov::analysis::TokenizerUse::kIfPresent);
    resolved_ = std::move(opened.resolved);
    model_ = std::make_unique<bentov::Model>(std::move(opened.model));
    if (opened.tokenizer) tokenizer_ = std::make_unique<bentov::Tokenizer>(std::move(*opened.tokenizer));
  }

  const bentov::io::ResolvedModel& resolved() const { return resolved_; }
  std::string device() const { return device_.name(); }

  py::dict config() const {
    const auto& c = model_->config();
    py::dict d;
    d["architecture"] = c.architecture;
    d["model_class"] = c.model_class;
    d["n_layers"] = c.n_layers;
    d["n_heads"] = c.n_heads;
    d["hidden_size"] = c.hidden_size;
    d["head_dim"] = c.head_dim;
    d["intermediate_size"] = c.intermediate_size;
    d["vocab_size"] = c.vocab_size;
    d["max_positions"] = c.max_positions;
    d["dtype"] = c.dtype;
    d["parameters"] = model_->weights().parameter_count;
    d["tokenizer"] = tokenizer_ ? py::object(py::str(tokenizer_->kind())) : py::object(py::none());
    return d;
  }

  const bentov::Tokenizer& tokenizer() const {
    if (!tokenizer_) {
      throw bentov::IoError("no tokenizer files (tokenizer.json or vocab.json + merges.txt) in '" +
                                  resolved_.folder.string() + "'",
                              "pass token ids, or add the model's tokenizer files");
    }
    return *tokenizer_;
  }

  std::vector<std::int32_t> tokenize(const std::string& text) const {
    const auto& tok = tokenizer();
    const py::gil_scoped_release nogil;
    return tok.encode(text);
  }

  std::vector<std::string> str_tokens(const std::string& text) const {
    const auto& tok = tokenizer();
    const py::gil_scoped_release nogil;
    std::vector<std::string> labels;
    for (const auto id : tok.encode(text)) labels.push_back(tok.token_text(id));
    return labels;
  }

  std::string decode(const std::vector<std::int32_t>& ids) const { return tokenizer().decode(ids); }

  py::dict attention(const std::optional<std::string>& text, const std::optional<std::vector<std::int64_t>>& ids,
                     const std::optional<std::vector<int>>& layers, int threads) const {
    const TextSource source = text_source(text, ids);
    const std::vector<std::int32_t> input = source.ids ? *source.ids : tokenizer().encode(*source.text);
    model_->check_input(input);
    const auto& c = model_->config();
    const std::vector<bool> wanted = wanted_layers(layers, c.n_layers);
    const auto n = static_cast<std::uint64_t>(input.size());
    std::uint64_t kept = 0;
    for (const bool w : wanted) kept += w ? 1 : 0;
    bentov::io::check_memory(kept * static_cast<std::uint64_t>(c.n_heads) * n * n * sizeof(float),
                             resolved_.name + ": the attention of " + std::to_string(kept) + " layer(s) at " +
                                 std::to_string(n) + " tokens",
                             "ask for fewer layers (layers=[...]) or a shorter text");
    LayerCapture capture(wanted);
    {
      const py::gil_scoped_release nogil;
      model_->forward(input, &capture, bentov::ForwardOptions{threads, device_});
    }
    py::dict out;
    for (std::size_t l = 0; l < wanted.size(); ++l) {
      if (!wanted[l]) continue;
      out[py::str("blocks." + std::to_string(l) + ".attn.hook_pattern")] =
          owning_array(capture.take(l), capture.heads(), capture.n());
    }
    return out;
  }

 private:
  static std::vector<bool> wanted_layers(const std::optional<std::vector<int>>& layers, int n_layers) {
    std::vector<bool> wanted(static_cast<std::size_t>(n_layers), !layers.has_value());
    for (const int l : layers.value_or(std::vector<int>{})) {
      const int i = l < 0 ? l + n_layers : l;
      if (i < 0 || i >= n_layers) {
        throw bentov::UsageError("layer " + std::to_string(l) + " does not exist",
                                 "the model has layers 0 to " + std::to_string(n_layers - 1));
      }
      wanted[static_cast<std::size_t>(i)] = true;
    }
    return wanted;
  }

  bentov::Device device_;
  bentov::io::ResolvedModel resolved_;
  std::unique_ptr<bentov::Model> model_;
  std::unique_ptr<bentov::Tokenizer> tokenizer_;  // null when the folder has no tokenizer files
};

}  // namespace

PYBIND11_MODULE(_bentov, m) {
  m.doc() = "bentov's compiled engine; use the `bentov` package, not this module";
  py::register_exception_translator(translate_errors);
  m.attr("__version__") = BENTOV_VERSION;
  m.def("cuda_compiled", &bentov::cuda_compiled);
  m.def("cuda_device_count", &bentov::cuda_device_count);
  py::class_<Engine>(m, "Engine")
      .def(py::init([](std::string device, std::string dtype, int max_positions) {
             return Engine{std::move(device), std::move(dtype), max_positions};
           }),
           py::arg("device"), py::arg("dtype"), py::arg("max_positions"));
  m.def("analyze", &analyze, py::arg("specs"), py::arg("text"), py::arg("ids"), py::arg("threads"), py::arg("engine"),
        py::arg("on_model"), py::arg("collect_failures"), py::arg("loss"));
  m.def("sweep", &sweep, py::arg("specs"), py::arg("text"), py::arg("ids"), py::arg("threads"), py::arg("engine"),
        py::arg("on_model"), py::arg("collect_failures"), py::arg("loss"));
  m.def("compare", &compare, py::arg("a"), py::arg("b"), py::arg("text"), py::arg("ids"), py::arg("threads"),
        py::arg("engine"), py::arg("on_model"), py::arg("loss"));
  auto corpus_args = [](std::optional<std::string> file, std::optional<std::vector<std::string>> texts,
                        std::size_t max_texts, int max_tokens, int bootstrap, std::uint64_t seed) {
    return CorpusArgs{std::move(file), std::move(texts), max_texts, max_tokens, bootstrap, seed};
  };
  m.def(
      "corpus",
      [corpus_args](const std::vector<std::string>& specs, std::optional<std::string> file,
                    std::optional<std::vector<std::string>> texts, std::size_t max_texts, int max_tokens, int bootstrap,
                    std::uint64_t seed, int threads, const Engine& engine, const std::optional<py::function>& on_model,
                    const std::optional<py::function>& on_text, bool collect_failures, bool loss) {
        return corpus(specs, corpus_args(std::move(file), std::move(texts), max_texts, max_tokens, bootstrap, seed),
                      threads, engine, on_model, on_text, collect_failures, loss);
      },
      py::arg("specs"), py::arg("file"), py::arg("texts"), py::arg("max_texts"), py::arg("max_tokens"),
      py::arg("bootstrap"), py::arg("seed"), py::arg("threads"), py::arg("engine"), py::arg("on_model"),
      py::arg("on_text"), py::arg("collect_failures"), py::arg("loss"));
  m.def(
      "sweep_corpus",
      [corpus_args](const std::vector<std::string>& specs, std::optional<std::string> file,
                    std::optional<std::vector<std::string>> texts, std::size_t max_texts, int max_tokens, int bootstrap,
                    std::uint64_t seed, int threads, const Engine& engine, const std::optional<py::function>& on_model,
                    bool loss) {
        return sweep_corpus(specs, corpus_args(std::move(file), std::move(texts), max_texts, max_tokens, bootstrap, seed),
                            threads, engine, on_model, loss);
      },
      py::arg("specs"), py::arg("file"), py::arg("texts"), py::arg("max_texts"), py::arg("max_tokens"),
      py::arg("bootstrap"), py::arg("seed"), py::arg("threads"), py::arg("engine"), py::arg("on_model"), py::arg("loss"));
  m.def(
      "compare_corpus",
      [corpus_args](const std::string& a, const std::string& b, std::optional<std::string> file,
                    std::optional<std::vector<std::string>> texts, std::size_t max_texts, int max_tokens, int bootstrap,
                    std::uint64_t seed, int threads, const Engine& engine, const std::optional<py::function>& on_model,
                    bool loss) {
        return compare_corpus(a, b, corpus_args(std::move(file), std::move(texts), max_texts, max_tokens, bootstrap, seed),
                              threads, engine, on_model, loss);
      },
      py::arg("a"), py::arg("b"), py::arg("file"), py::arg("texts"), py::arg("max_texts"), py::arg("max_tokens"),
      py::arg("bootstrap"), py::arg("seed"), py::arg("threads"), py::arg("engine"), py::arg("on_model"), py::arg("loss"));
  m.def("csv_from_json", &csv_from_json, py::arg("json_text"));
  py::class_<PyModel>(m, "Model")
      .def(py::init<const std::string&, bool, const std::string&>(), py::arg("spec"), py::arg("offline"),
           py::arg("device"))
      .def_property_readonly("name", [](const PyModel& p) { return p.resolved().name; })
      .def_property_readonly("source", [](const PyModel& p) { return p.resolved().source; })
      .def_property_readonly("folder", [](const PyModel& p) { return p.resolved().folder; })
      .def_property_readonly("device", &PyModel::device)
      .def("config", &PyModel::config)
      .def("tokenize", &PyModel::tokenize, py::arg("text"))
      .def("str_tokens", &PyModel::str_tokens, py::arg("text"))
      .def("decode", &PyModel::decode, py::arg("ids"))
      .def("attention", &PyModel::attention, py::arg("text"), py::arg("ids"), py::arg("layers"), py::arg("threads"));
}
