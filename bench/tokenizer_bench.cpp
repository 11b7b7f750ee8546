// Tokenizer throughput on tinyshakespeare (1.1 MB), one thread: tokens/s and MB/s, to compare
// with Hugging Face `tokenizers` (scripts/gen_tokenizer_vectors.py --bench). Run pinned to one
// core: scripts/bench_tokenizer.sh. The data comes from ../shared/data (or $BENTOV_SHARED_DATA).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "bentov/tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;

fs::path shared_data() {
  if (const char* env = std::getenv("BENTOV_SHARED_DATA")) return env;
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "shared" / "data";
}

const std::string& corpus() {
  static const std::string text = [] {
    std::ifstream in(shared_data() / "corpus" / "tinyshakespeare.txt", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }();
  return text;
}

void report(benchmark::State& state, std::size_t tokens) {
  const auto iters = static_cast<double>(state.iterations());
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens) * iters, benchmark::Counter::kIsRate);
  state.counters["MB/s"] =
      benchmark::Counter(static_cast<double>(corpus().size()) * iters / 1e6, benchmark::Counter::kIsRate);
  state.counters["tokens"] = static_cast<double>(tokens);
}

// Warm: one tokenizer, its word cache filled by earlier iterations (HF keeps a cache too).
void BM_EncodeWarm(benchmark::State& state, const char* name) {
  const fs::path dir = shared_data() / "tokenizers" / name;
  if (corpus().empty() || !fs::exists(dir)) {
    state.SkipWithError("../shared/data not found (set BENTOV_SHARED_DATA)");
    return;
  }
  const bentov::Tokenizer tok = bentov::Tokenizer::load(dir);
  std::size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tok.encode(corpus());
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  report(state, tokens);
}

// Cold: a freshly loaded tokenizer (empty cache) per iteration; loading is not timed.
void BM_EncodeCold(benchmark::State& state, const char* name) {
  const fs::path dir = shared_data() / "tokenizers" / name;
  if (corpus().empty() || !fs::exists(dir)) {
    state.SkipWithError("../shared/data not found (set BENTOV_SHARED_DATA)");
    return;
  }
  std::size_t tokens = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const bentov::Tokenizer tok = bentov::Tokenizer::load(dir);
    state.ResumeTiming();
    const auto ids = tok.encode(corpus());
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  report(state, tokens);
}

BENCHMARK_CAPTURE(BM_EncodeWarm, gpt2, "gpt2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeWarm, pythia, "pythia")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeWarm, opt, "opt")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeWarm, llama2, "llama2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeWarm, llama3, "llama3")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeWarm, qwen3, "qwen3")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeCold, gpt2, "gpt2")->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_EncodeCold, pythia, "pythia")->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_EncodeCold, opt, "opt")->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_EncodeCold, llama2, "llama2")->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_EncodeCold, llama3, "llama3")->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_EncodeCold, qwen3, "qwen3")->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
