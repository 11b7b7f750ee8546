// Forward-pass and sgemm rates measured in the same process: the forward's FLOP rate
// is only meaningful next to what OpenBLAS reaches on the same cores.
//   BENTOV_BENCH_MODEL=/path/to/checkpoint BENTOV_BENCH_TOKENS=512 bentov_bench --benchmark_filter=Forward
// On a GPU (scripts/bench_gpu.py): BENTOV_BENCH_DEVICE=cuda BENTOV_BENCH_DTYPE=bf16 BENTOV_BENCH_TEXTS=64
// runs that many texts of BENTOV_BENCH_TOKENS random ids per iteration, with the metrics, packed
// as a corpus run packs them (Model::forward_packed). BM_Sgemm runs on OpenBLAS's own threads
// (OPENBLAS_NUM_THREADS).
// FLOPs are those of the dense formulation transformers runs (every projection 2*n*in*out,
// QK^T and PV 2*n*n*d each per layer), so rates compare with transformers' own.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <cstdlib>
#include <random>
#include <vector>

#include "bentov/metrics/signature_observer.h"
#include "bentov/model/model.h"
#include "bentov/ops/bf16_gemm.h"
#include "bentov/ops/ops.h"
#include "bentov/ops/parallel.h"

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

double forward_flops(const bentov::ModelConfig& c, double n) {
  const double d = c.hidden_size, ff = c.intermediate_size;
  const double per_layer = 2 * n * (3 * d * d + d * d + 2 * d * ff) + 2 * 2 * n * n * d;
  return per_layer * c.n_layers;
}

void BM_Forward(benchmark::State& state) {
  const char* path = std::getenv("BENTOV_BENCH_MODEL");
  if (!path) {
    state.SkipWithError("set BENTOV_BENCH_MODEL to a checkpoint folder");
    return;
  }
  // Widened at load: the rate of the forward pass itself, every iteration alike (a first pass
  // widening on use would differ from the later ones).
  const auto model = bentov::Model::load(path, bentov::WeightWidening::kOnce);
  const int n = env_int("BENTOV_BENCH_TOKENS", 512), texts = env_int("BENTOV_BENCH_TEXTS", 1);
  std::mt19937 rng(1);
  std::vector<std::vector<std::int32_t>> inputs(static_cast<std::size_t>(texts));  // (texts, n)
  for (auto& ids : inputs) {
    ids.resize(static_cast<std::size_t>(n));
    for (auto& id : ids) id = static_cast<std::int32_t>(rng() % static_cast<unsigned>(model.config().vocab_size));
  }
  bentov::ForwardOptions opts{env_int("BENTOV_BENCH_THREADS", 0)};
  opts.last_hidden = false;  // as a corpus run without --loss
  const char* device = std::getenv("BENTOV_BENCH_DEVICE");
  const char* dtype = std::getenv("BENTOV_BENCH_DTYPE");
  opts.device = bentov::resolve_device(bentov::parse_device(device && *device ? device : "cpu"));
  opts.dtype = bentov::parse_compute_dtype(dtype && *dtype ? dtype : "fp32");
  const std::vector<std::span<const std::int32_t>> packed(inputs.begin(), inputs.end());
  auto pass = [&] {  // as a corpus run: the texts packed into shared passes on a GPU
    std::deque<bentov::metrics::SignatureObserver> observers;  // not movable: a deque keeps them in place
    for (std::size_t k = 0; k < inputs.size(); ++k) observers.emplace_back(model.value_frob_sq());
    std::vector<bentov::AttentionObserver*> observed;
    for (auto& o : observers) observed.push_back(&o);
    benchmark::DoNotOptimize(model.forward_packed(packed, observed, opts));
    for (auto& o : observers) benchmark::DoNotOptimize(o.take_layers());
  };
  // One pass before the clock starts, as transformers' side warms up: the upload to a GPU and the
  // widening, the GPU's memory pool and page-locked buffers grown to the pass's size.
  pass();
  for (auto _ : state) pass();
  const double flops = forward_flops(model.config(), n) * texts;
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(n) * texts, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Forward)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// The projection shape of a pythia-160m / gpt2 layer at 512 tokens, (512 x 768) x (768 x 3072), one
// tile of it as the CPU pass cuts it (ops/tiles.h), and a pythia-410m one at 2,048 tokens.
void BM_Sgemm(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0)), k = static_cast<int>(state.range(1)),
            n = static_cast<int>(state.range(2));
  std::vector<float> a(static_cast<std::size_t>(m) * k, 0.5f), b(static_cast<std::size_t>(k) * n, 0.25f),
      c(static_cast<std::size_t>(m) * n);
  for (auto _ : state) {
    bentov::ops::gemm(false, true, m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Sgemm)->Args({256, 768, 768})->Args({512, 768, 3072})->Args({2048, 1024, 4096})->UseRealTime()->Unit(benchmark::kMillisecond);

// The same shapes as bf16 products with float32 sums on the calling thread alone (--dtype bf16 on
// the CPU: each worker runs its own tiles so): compare with BM_Sgemm under OPENBLAS_NUM_THREADS=1.
void BM_GemmBf16(benchmark::State& state) {
  if (!bentov::ops::bf16_products_compiled()) {
    state.SkipWithError("built without oneDNN");
    return;
  }
  const int m = static_cast<int>(state.range(0)), k = static_cast<int>(state.range(1)),
            n = static_cast<int>(state.range(2));
  std::vector<std::uint16_t> a(static_cast<std::size_t>(m) * k, bentov::ops::to_bf16(0.5f)),  // (m, k)
      b(static_cast<std::size_t>(n) * k, bentov::ops::to_bf16(0.25f));                          // (n, k)
  std::vector<float> c(static_cast<std::size_t>(m) * n);                                        // (m, n)
  for (auto _ : state) {
    bentov::ops::gemm_bf16(m, n, k, a.data(), k, b.data(), true, k, 0.0f, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["FLOP/s"] =
      benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(bentov::ops::bf16_products_isa());
}
BENCHMARK(BM_GemmBf16)->Args({256, 768, 768})->Args({512, 768, 3072})->Args({2048, 1024, 4096})->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_CausalSoftmax(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<float> s(static_cast<std::size_t>(n) * n, 1.0f);
  for (auto _ : state) {
    bentov::ops::causal_softmax(s.data(), n);
    benchmark::DoNotOptimize(s.data());
  }
  state.counters["rows/s"] = benchmark::Counter(n, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_CausalSoftmax)->Arg(512)->Arg(2048);

}  // namespace
