// Helpers shared by the subcommands: the input text, progress lines, the demo models, errors.
#include "cli.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <iostream>
#include <limits>

#include "bentov/error.h"
#include "bentov/io/json_file.h"
#include "bentov/ops/bf16_gemm.h"

namespace bentov::cli {

namespace {

constexpr const char* kNotebookSentence =
    "The fundamental nature of reality is that all things are interconnected through underlying "
    "mathematical structures.";
constexpr std::size_t kMaxTextBytes = 64u << 20;

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

}  // namespace

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
  const bentov::analysis::Failure first =
      report.failures.empty() ? bentov::analysis::Failure{"no model given", ""} : report.failures.front().failure;
  std::cerr << "bentov: error: nothing could be analyzed: " << first.message << '\n';
  if (!first.hint.empty()) std::cerr << "hint: " << first.hint << '\n';
  return kExitNothing;
}

void print_error(const std::string& message, const std::string& hint) {
  std::cerr << "bentov: error: " << message << '\n';
  if (!hint.empty()) std::cerr << "hint: " << hint << '\n';
}

Device device_of(const std::string& flag) { return resolve_device(parse_device(flag)); }

bentov::ComputeDtype dtype_of(const std::string& flag, const Device& device) {
  const bentov::ComputeDtype d = bentov::parse_compute_dtype(flag);
  bentov::check_compute_dtype(device, d);
  return d;
}

void EngineFlags::add_to(CLI::App& cmd) {
  cmd.add_option("--threads", threads, kThreadsHelp)->check(CLI::Range(0, 1024));
  cmd.add_option("--device", device, kDeviceHelp);
  cmd.add_option("--dtype", dtype, kDtypeHelp);
  cmd.add_option("--max-positions", max_positions, kMaxPositionsHelp)->check(CLI::Range(2, 1 << 30));
  cmd.add_flag("--quiet", quiet, "no progress on stderr");
}

bentov::analysis::RunOptions EngineFlags::run_options(bool loss, const io::ResolveOptions& resolve) const {
  bentov::analysis::RunOptions o;
  o.resolve = resolve;
  o.loss = loss;
  o.threads = threads;
  o.progress = progress_printer(quiet);
  o.warning = [](const std::string& line) { std::cerr << "bentov: warning: " << line << '\n'; };
  o.device = device_of(device);
  o.dtype = dtype_of(dtype, o.device);
  if (o.dtype == ComputeDtype::kBFloat16 && !o.device.is_cuda() && !quiet) {
    if (const std::string note = bentov::ops::bf16_products_speed_note(); !note.empty()) {
      std::cerr << "bentov: note: " << note << '\n';
    }
  }
  o.max_positions = max_positions;
  return o;
}

void CorpusFlags::add_to(CLI::App& cmd) {
  auto* c = cmd.add_option("--corpus", corpus,
                           "run every text of F (one per line, or JSON Lines with a \"text\" field): intervals and "
                           "paired tests over texts");
  c->group("Corpus");
  for (const char* other : {"--text", "--text-file", "--ids"}) c->excludes(cmd.get_option(other));
  cmd.add_option("--max-texts", max_texts, "only the first N texts of the corpus")
      ->check(CLI::Range(std::size_t{1}, std::numeric_limits<std::size_t>::max()))
      ->needs(c)
      ->group("Corpus");
  cmd.add_option("--max-tokens", max_tokens, "keep the first N tokens of each text (default: the model's limit)")
      ->check(CLI::Range(2, 1 << 30))
      ->needs(c)
      ->group("Corpus");
  cmd.add_option("--bootstrap", bootstrap, "bootstrap resamples (and permutations) for the intervals and tests")
      ->check(CLI::Range(1, 1000000))
      ->needs(c)
      ->capture_default_str()
      ->group("Corpus");
  cmd.add_option("--seed", seed, "seed of the bootstrap and the permutations (std::mt19937_64)")
      ->needs(c)
      ->capture_default_str()
      ->group("Corpus");
}

analysis::CorpusOptions CorpusFlags::options() const {
  analysis::CorpusOptions co;
  co.max_tokens = max_tokens;
  co.bootstrap = bootstrap;
  co.seed = seed;
  return co;
}

analysis::Corpus CorpusFlags::read(bool quiet) const {
  auto c = analysis::read_corpus(*corpus, max_texts);
  if (auto note = progress_printer(quiet)) {
    note("corpus " + *corpus + ": " + std::to_string(c.texts.size()) + " texts" + (c.limited ? ", stopped at --max-texts" : ""));
  }
  if (c.texts.empty()) throw InputError("corpus '" + *corpus + "' has no text", "write one text per line");
  return c;
}

}  // namespace bentov::cli
