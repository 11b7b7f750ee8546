// Google Benchmark's main, after the OpenBLAS kernel check the CLI also makes (blas_kernels.h):
// the benchmark must time the kernels `bentov` itself runs with.
#include <benchmark/benchmark.h>

#include "bentov/ops/blas_kernels.h"

int main(int argc, char** argv) {
  bentov::ops::reexec_for_blas_kernels(argv);
  benchmark::AddCustomContext("openblas_core", bentov::ops::blas_core_name());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
