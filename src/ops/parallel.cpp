#include "bentov/ops/parallel.h"

#include <cblas.h>
#include <sched.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace bentov::ops {

int default_threads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

void parallel_for(int count, int threads, const std::function<void(int, int)>& body) {
  if (threads < 1) threads = 1;
  if (threads > count) threads = count;
  if (threads <= 1) {
    for (int i = 0; i < count; ++i) body(i, 0);
    return;
  }
  std::atomic<int> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&](int worker) {
    for (;;) {
      const int i = next.fetch_add(1);
      if (i >= count) return;
      try {
        body(i, worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next.store(count);  // stop handing out work
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads - 1));
  for (int w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

namespace {
// OpenBLAS's thread count is one setting for the whole process: the first scope saves it and
// sets 1, the last one to end restores it, however many forward passes overlap.
std::mutex blas_threads_mutex;
int blas_scopes = 0;
int blas_threads_before = 0;
}  // namespace

ScopedSingleThreadedBlas::ScopedSingleThreadedBlas() {
  std::lock_guard<std::mutex> lock(blas_threads_mutex);
  if (blas_scopes++ == 0) {
    blas_threads_before = openblas_get_num_threads();
    openblas_set_num_threads(1);
  }
}

ScopedSingleThreadedBlas::~ScopedSingleThreadedBlas() {
  std::lock_guard<std::mutex> lock(blas_threads_mutex);
  if (--blas_scopes == 0) openblas_set_num_threads(blas_threads_before);
}

}  // namespace bentov::ops
