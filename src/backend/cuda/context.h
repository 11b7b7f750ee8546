// One GPU's stream and cuBLAS handle, device buffers, and row-major products through cuBLAS
// (the twin of ops::gemm). Errors become bentov::Error: a failed allocation is an
// UnsupportedError saying how much was asked, anything else names the CUDA call.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace bentov::cuda {

void check(cudaError_t e, const char* what);
void check(cublasStatus_t s, const char* what);

class Context {
 public:
  explicit Context(int device);  // selects the device, creates a stream and a cuBLAS handle (TF32 off)
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t blas() const { return blas_; }
  cublasLtHandle_t blas_lt() const { return blas_lt_; }
  void* lt_workspace() const { return lt_workspace_; }
  static constexpr std::size_t kLtWorkspaceBytes = 32u << 20;
  // cuBLASLt's choice of algorithm for a product's shape, kept after the first query.
  std::map<std::array<int, 9>, cublasLtMatmulAlgo_t>& lt_algorithms() const { return lt_algorithms_; }
  void activate() const;  // cudaSetDevice for the calling thread
  void synchronize() const;
  // Free device memory, counting what the stream-ordered pool keeps for the next pass as free.
  std::size_t free_bytes() const;
  int multiprocessors() const;
  std::string device_name() const;

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  cublasLtHandle_t blas_lt_ = nullptr;
  void* lt_workspace_ = nullptr;  // (kLtWorkspaceBytes) device memory for cuBLASLt's products
  mutable std::map<std::array<int, 9>, cublasLtMatmulAlgo_t> lt_algorithms_;
};

// An owned device allocation of `count` elements of T (uninitialized). Given a stream, it comes
// from the device's memory pool in stream order (cudaMallocAsync) and goes back to it on that
// stream when destroyed: the pool keeps it (Context raises its release threshold), so a pass's
// buffers cost no cudaMalloc / cudaFree, and no synchronization, from the second pass on.
template <typename T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t count, cudaStream_t stream = nullptr);
  ~Buffer();
  Buffer(Buffer&& o) noexcept : data_(o.data_), count_(o.count_), stream_(o.stream_), pooled_(o.pooled_) {
    o.data_ = nullptr, o.count_ = 0;
  }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  void release();

  T* data_ = nullptr;
  std::size_t count_ = 0;
  cudaStream_t stream_ = nullptr;
  bool pooled_ = false;  // from cudaMallocAsync on stream_
};

// Page-locked host memory (cudaMallocHost) that grows on demand: the target of copies that
// overlap the GPU's work (download_async).
class HostBuffer {
 public:
  HostBuffer() = default;
  ~HostBuffer();
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  // At least `bytes` (the contents are not kept when it grows).
  void reserve(std::size_t bytes);
  unsigned char* data() { return data_; }

 private:
  unsigned char* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// A point in the context's stream: record() marks what has been queued so far, wait() blocks
// the host until the GPU has done it.
class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& o) noexcept : event_(o.event_) { o.event_ = nullptr; }
  void record(const Context& c);
  void wait() const;

 private:
  cudaEvent_t event_ = nullptr;
};

// A device -> host copy queued on the context's stream into page-locked memory; complete after
// the next synchronize() (or an Event recorded after it).
void download_async(const Context& c, void* pinned_dst, const void* src, std::size_t bytes);

// Host -> device and device -> host copies on the context's stream (host memory pageable:
// the copy completes before the call returns for device -> host).
void upload(const Context& c, void* dst, const void* src, std::size_t bytes);
void download(const Context& c, void* dst, const void* src, std::size_t bytes);

// C[m, n] = alpha op(A) op(B) + beta C, all row-major as in ops::gemm.
void gemm(const Context& c, bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc);
// C[m, n] (float, row stride ldc) = A op(B) + bias, A (m, k) and B bfloat16 (bf16) or half, the
// products on tensor cores with float32 accumulation (CUBLAS_COMPUTE_32F). The bias (n floats,
// broadcast over rows; null: none) is added by cuBLASLt's epilogue, the same one rounding of the
// sum as a product onto a C filled with it, without those two passes over C.
void gemm_16_bias(const Context& c, bool bf16, bool trans_b, int m, int n, int k, const void* A, int lda,
                  const void* B, int ldb, const float* bias, float* C, int ldc);
// `batch` such products, the i-th at A + i * stride_a, B + i * stride_b, C + i * stride_c.
void gemm_batched(const Context& c, bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A,
                  int lda, long long stride_a, const float* B, int ldb, long long stride_b, float beta, float* C,
                  int ldc, long long stride_c, int batch);

}  // namespace bentov::cuda
