// A minimal parallel-for over independent work items (attention heads), on short-lived
// std::threads: work items are coarse (one head of one layer), so thread start-up is noise.
#pragma once

#include <functional>

namespace bentov::ops {

// Calls body(item, worker) for item in [0, count) on up to `threads` workers (worker in
// [0, threads)); items are handed out dynamically. The first exception thrown by a body is
// rethrown after all workers stop.
void parallel_for(int count, int threads, const std::function<void(int item, int worker)>& body);

// Threads bentov uses when the user gives none: the cores this process may run on.
int default_threads();

// While any is alive, OpenBLAS runs single-threaded (so that the sgemm calls of our workers do
// not oversubscribe the cores); when the last one ends, the setting before the first is restored.
class ScopedSingleThreadedBlas {
 public:
  ScopedSingleThreadedBlas();
  ~ScopedSingleThreadedBlas();
  ScopedSingleThreadedBlas(const ScopedSingleThreadedBlas&) = delete;
  ScopedSingleThreadedBlas& operator=(const ScopedSingleThreadedBlas&) = delete;
};

}  // namespace bentov::ops
