#include "context.h"

#include <cstdint>
#include <string>

#include "bentov/error.h"

namespace bentov::cuda {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();
  if (e == cudaErrorMemoryAllocation) {
    throw UnsupportedError(std::string("out of GPU memory in ") + what,
                           "use a shorter text, a smaller model, or --device cpu");
  }
  throw UnsupportedError(std::string("CUDA error in ") + what + ": " + cudaGetErrorName(e) + " (" +
                             cudaGetErrorString(e) + ")",
                         "check the GPU with nvidia-smi, or use --device cpu");
}

void check(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  if (s == CUBLAS_STATUS_ALLOC_FAILED) {
    throw UnsupportedError(std::string("out of GPU memory in ") + what, "use a shorter text or --device cpu");
  }
  throw UnsupportedError(std::string("cuBLAS error in ") + what + ": " + cublasGetStatusName(s),
                         "check the GPU with nvidia-smi, or use --device cpu");
}

Context::Context(int device) : device_(device) {
  check(cudaSetDevice(device), "cudaSetDevice");
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cublasCreate(&blas_), "cublasCreate");
  check(cublasSetStream(blas_, stream_), "cublasSetStream");
  // fp32 products in fp32: no TF32 tensor cores (transformers' reference, TF32 off).
  check(cublasSetMathMode(blas_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
  check(cublasLtCreate(&blas_lt_), "cublasLtCreate");
  check(cudaMalloc(&lt_workspace_, kLtWorkspaceBytes), "cudaMalloc (cuBLASLt workspace)");
  // Memory a pass gives back stays in the pool for the next pass (Buffer with a stream).
  cudaMemPool_t pool = nullptr;
  check(cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool");
  std::uint64_t keep_all = UINT64_MAX;
  check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all), "cudaMemPoolSetAttribute");
}

Context::~Context() {
  if (lt_workspace_) cudaFree(lt_workspace_);
  if (blas_lt_) cublasLtDestroy(blas_lt_);
  if (blas_) cublasDestroy(blas_);
  if (stream_) cudaStreamDestroy(stream_);
}

void Context::activate() const { check(cudaSetDevice(device_), "cudaSetDevice"); }

void Context::synchronize() const { check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize"); }

namespace {

cudaMemPool_t default_pool() {
  int device = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  cudaMemPool_t pool = nullptr;
  check(cudaDeviceGetDefaultMemPool(&pool, device), "cudaDeviceGetDefaultMemPool");
  return pool;
}

// Bytes the current device's pool holds that no Buffer uses.
std::size_t pool_spare_bytes() {
  cudaMemPool_t pool = default_pool();
  std::uint64_t reserved = 0, used = 0;
  check(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &reserved), "cudaMemPoolGetAttribute");
  check(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &used), "cudaMemPoolGetAttribute");
  return reserved > used ? static_cast<std::size_t>(reserved - used) : 0;
}

// cudaMalloc, and once more after the pool has given its spare memory back to the device.
void* allocate(std::size_t bytes) {
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation && pool_spare_bytes() > 0) {
    cudaGetLastError();
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    check(cudaMemPoolTrimTo(default_pool(), 0), "cudaMemPoolTrimTo");
    e = cudaMalloc(&p, bytes);
  }
  check(e, "cudaMalloc");
  return p;
}

}  // namespace

std::size_t Context::free_bytes() const {
  std::size_t free = 0, total = 0;
  check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
  return free + pool_spare_bytes();
}

int Context::multiprocessors() const {
  int count = 0;
  check(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device_), "cudaDeviceGetAttribute");
  return count;
}

std::string Context::device_name() const {
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, device_), "cudaGetDeviceProperties");
  return p.name;
}

template <typename T>
Buffer<T>::Buffer(std::size_t count, cudaStream_t stream) : count_(count), stream_(stream), pooled_(stream != nullptr) {
  if (!count) return;
  if (pooled_) {
    check(cudaMallocAsync(reinterpret_cast<void**>(&data_), count * sizeof(T), stream), "cudaMallocAsync");
  } else {
    data_ = static_cast<T*>(allocate(count * sizeof(T)));
  }
}

template <typename T>
void Buffer<T>::release() {
  if (!data_) return;
  if (pooled_) {
    cudaFreeAsync(data_, stream_);
  } else {
    cudaFree(data_);
  }
  data_ = nullptr;
}

template <typename T>
Buffer<T>::~Buffer() {
  release();
}

template <typename T>
Buffer<T>& Buffer<T>::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_, count_ = o.count_, stream_ = o.stream_, pooled_ = o.pooled_;
    o.data_ = nullptr, o.count_ = 0;
  }
  return *this;
}

template class Buffer<float>;
template class Buffer<std::uint16_t>;
template class Buffer<unsigned char>;
template class Buffer<double>;
template class Buffer<std::int32_t>;

HostBuffer::~HostBuffer() {
  if (data_) cudaFreeHost(data_);
}

void HostBuffer::reserve(std::size_t bytes) {
  if (bytes <= bytes_) return;
  if (data_) cudaFreeHost(data_);
  data_ = nullptr, bytes_ = 0;
  check(cudaMallocHost(reinterpret_cast<void**>(&data_), bytes), "cudaMallocHost");
  bytes_ = bytes;
}

Event::Event() { check(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), "cudaEventCreate"); }

Event::~Event() {
  if (event_) cudaEventDestroy(event_);
}

void Event::record(const Context& c) { check(cudaEventRecord(event_, c.stream()), "cudaEventRecord"); }

void Event::wait() const { check(cudaEventSynchronize(event_), "cudaEventSynchronize"); }

void download_async(const Context& c, void* pinned_dst, const void* src, std::size_t bytes) {
  if (!bytes) return;
  check(cudaMemcpyAsync(pinned_dst, src, bytes, cudaMemcpyDeviceToHost, c.stream()), "cudaMemcpy (download)");
}

void upload(const Context& c, void* dst, const void* src, std::size_t bytes) {
  if (!bytes) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c.stream()), "cudaMemcpy (upload)");
  c.synchronize();  // pageable source: keep it alive until the copy is done
}

void download(const Context& c, void* dst, const void* src, std::size_t bytes) {
  if (!bytes) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c.stream()), "cudaMemcpy (download)");
  c.synchronize();
}

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS gets B first.
void gemm(const Context& c, bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  check(cublasSgemm(c.blas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k,
                    &alpha, B, ldb, A, lda, &beta, C, ldc),
        "cublasSgemm");
}

namespace {

// Owners of cuBLASLt descriptors.
struct MatmulDesc {
  cublasLtMatmulDesc_t d = nullptr;
  MatmulDesc() { check(cublasLtMatmulDescCreate(&d, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate"); }
  ~MatmulDesc() { cublasLtMatmulDescDestroy(d); }
  template <typename V>
  void set(cublasLtMatmulDescAttributes_t a, const V& v) {
    check(cublasLtMatmulDescSetAttribute(d, a, &v, sizeof v), "cublasLtMatmulDescSetAttribute");
  }
};
struct MatrixLayout {
  cublasLtMatrixLayout_t l = nullptr;
  MatrixLayout(cudaDataType type, int rows, int cols, int ld) {
    check(cublasLtMatrixLayoutCreate(&l, type, static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols), ld),
          "cublasLtMatrixLayoutCreate");
  }
  ~MatrixLayout() { cublasLtMatrixLayoutDestroy(l); }
};
struct Preference {
  cublasLtMatmulPreference_t p = nullptr;
  Preference() {
    check(cublasLtMatmulPreferenceCreate(&p), "cublasLtMatmulPreferenceCreate");
    const std::uint64_t bytes = Context::kLtWorkspaceBytes;
    check(cublasLtMatmulPreferenceSetAttribute(p, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &bytes, sizeof bytes),
          "cublasLtMatmulPreferenceSetAttribute");
  }
  ~Preference() { cublasLtMatmulPreferenceDestroy(p); }
};

}  // namespace

// Row-major C = A op(B) is column-major C^T = op(B)^T A^T: cuBLASLt's A is B, its B is A, and the
// bias runs along the rows of its D (n of them), the columns of ours.
void gemm_16_bias(const Context& c, bool bf16, bool trans_b, int m, int n, int k, const void* A, int lda,
                  const void* B, int ldb, const float* bias, float* C, int ldc) {
  const cudaDataType type = bf16 ? CUDA_R_16BF : CUDA_R_16F;
  MatmulDesc op;
  op.set(CUBLASLT_MATMUL_DESC_TRANSA, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N);
  op.set(CUBLASLT_MATMUL_DESC_TRANSB, CUBLAS_OP_N);
  if (bias) {
    op.set(CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_BIAS);
    op.set(CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);
  }
  const MatrixLayout a(type, trans_b ? k : n, trans_b ? n : k, ldb), b(type, k, m, lda), d(CUDA_R_32F, n, m, ldc);
  auto& known = c.lt_algorithms();
  const std::array<int, 9> key{bf16, trans_b, m, n, k, lda, ldb, ldc, bias != nullptr};
  auto it = known.find(key);
  if (it == known.end()) {
    const Preference pref;
    cublasLtMatmulHeuristicResult_t best{};
    int found = 0;
    check(cublasLtMatmulAlgoGetHeuristic(c.blas_lt(), op.d, a.l, b.l, d.l, d.l, pref.p, 1, &best, &found),
          "cublasLtMatmulAlgoGetHeuristic");
    if (found == 0) check(CUBLAS_STATUS_NOT_SUPPORTED, "cublasLtMatmulAlgoGetHeuristic (no algorithm)");
    it = known.emplace(key, best.algo).first;
  }
  const float one = 1.0f, zero = 0.0f;
  check(cublasLtMatmul(c.blas_lt(), op.d, &one, B, a.l, A, b.l, &zero, C, d.l, C, d.l, &it->second,
                       c.lt_workspace(), Context::kLtWorkspaceBytes, c.stream()),
        "cublasLtMatmul");
}

void gemm_batched(const Context& c, bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A,
                  int lda, long long stride_a, const float* B, int ldb, long long stride_b, float beta, float* C,
                  int ldc, long long stride_c, int batch) {
  check(cublasSgemmStridedBatched(c.blas(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                  n, m, k, &alpha, B, ldb, stride_b, A, lda, stride_a, &beta, C, ldc, stride_c, batch),
        "cublasSgemmStridedBatched");
}

}  // namespace bentov::cuda
