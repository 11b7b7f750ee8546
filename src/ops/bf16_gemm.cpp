// bf16 products through oneDNN's matmul primitive (oneapi/dnnl/dnnl.hpp, oneDNN 2.x API:
// matmul::desc, then matmul::primitive_desc on the CPU engine). Each call is one primitive run
// on the calling thread: oneDNN's OpenMP threads are held to one (omp_set_num_threads on this
// thread), as OpenBLAS's are, because bentov's workers split every product into tiles fixed by
// its shape. oneDNN caches the primitives it creates by their descriptors, so a tile shape's
// kernel is generated once per process.
#include "bentov/ops/bf16_gemm.h"

#include <cstdlib>
#include <cstring>

#include "bentov/error.h"

#if BENTOV_WITH_ONEDNN
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace bentov::ops {

void round_to_bf16(const float* x, std::uint16_t* out, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) out[i] = to_bf16(x[i]);
}

void round_to_bf16_values(float* x, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint32_t u = static_cast<std::uint32_t>(to_bf16(x[i])) << 16;
    std::memcpy(x + i, &u, sizeof u);
  }
}

#if BENTOV_WITH_ONEDNN

namespace {

// oneDNN 2.x leaves AMX out of its default ISAs (it was "initial support"): allowed here before
// the first kernel is generated, unless ONEDNN_MAX_CPU_ISA says otherwise. On a CPU without AMX
// the cap changes nothing.
dnnl::engine make_cpu_engine() {
  const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
  if (!cap || !*cap) {
    try {
      dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx512_core_amx);
    } catch (const dnnl::error&) {  // a kernel was generated already: the cap stays as it was
    }
  }
  return dnnl::engine(dnnl::engine::kind::cpu, 0);
}

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine = make_cpu_engine();
  return engine;
}

dnnl::memory::desc matrix(int rows, int cols, dnnl::memory::data_type type, dnnl::memory::dim row_stride,
                          dnnl::memory::dim col_stride) {
  return dnnl::memory::desc({rows, cols}, type, dnnl::memory::dims{row_stride, col_stride});
}

}  // namespace

bool bf16_products_compiled() { return true; }

std::string bf16_products_isa() {
  cpu_engine();  // the ISA cap first
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx: return "AMX";
    case dnnl::cpu_isa::avx512_core_bf16: return "AVX512-BF16";
    default: return "emulated";
  }
}

std::string bf16_products_speed_note() {
  const std::string isa = bf16_products_isa();
  if (isa == "emulated") {
    return "this CPU has neither AMX nor AVX512-BF16, so bf16 products are emulated and slower than float32: "
           "--dtype fp32 is both exact and faster here";
  }
  __builtin_cpu_init();
  if (isa == "AVX512-BF16" && __builtin_cpu_is("intel")) {
    return "this Intel CPU runs bf16 products on AVX512-BF16 without AMX, no faster than its float32 sgemm: "
           "--dtype fp32 is both exact and faster here";
  }
  return "";
}

void gemm_bf16(int m, int n, int k, const std::uint16_t* A, int lda, const std::uint16_t* B, bool b_transposed,
               int ldb, float beta, float* C, int ldc) {
  using dt = dnnl::memory::data_type;
  omp_set_num_threads(1);
  const dnnl::engine& engine = cpu_engine();
  const dnnl::memory::desc a = matrix(m, k, dt::bf16, lda, 1);
  const dnnl::memory::desc b = b_transposed ? matrix(k, n, dt::bf16, 1, ldb) : matrix(k, n, dt::bf16, ldb, 1);
  const dnnl::memory::desc c = matrix(m, n, dt::f32, ldc, 1);
  dnnl::primitive_attr attr;
  if (beta != 0.0f) {
    dnnl::post_ops accumulate;
    accumulate.append_sum(beta);
    attr.set_post_ops(accumulate);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, engine);
  dnnl::memory a_mem(a, engine, const_cast<std::uint16_t*>(A));
  dnnl::memory b_mem(b, engine, const_cast<std::uint16_t*>(B));
  dnnl::memory c_mem(c, engine, C);
  dnnl::stream stream(engine);
  dnnl::matmul(pd).execute(stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
  stream.wait();
}

#else

bool bf16_products_compiled() { return false; }

std::string bf16_products_isa() { return "not built"; }

std::string bf16_products_speed_note() { return ""; }

void gemm_bf16(int, int, int, const std::uint16_t*, int, const std::uint16_t*, bool, int, float, float*, int) {
  throw UnsupportedError("this bentov was built without oneDNN, which runs --dtype bf16 on the CPU",
                         "install libdnnl-dev (scripts/install-deps.sh) and rebuild, or use --dtype fp32");
}

#endif

}  // namespace bentov::ops
