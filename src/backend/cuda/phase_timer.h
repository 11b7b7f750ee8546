// Where a pass's GPU time goes, for profiling without a profiler: with BENTOV_CUDA_PHASES set,
// CUDA events bracket each phase (products, attention passes, ...) on the stream, and the
// timer prints each phase's total milliseconds to stderr when it ends, and the pass's wall time
// ("pass", host work included). Unset, it does nothing.
#pragma once

#include <cuda_runtime.h>

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bentov::cuda {

class PhaseTimer {
 public:
  explicit PhaseTimer(cudaStream_t stream);
  ~PhaseTimer();  // synchronizes the stream, prints the totals, frees the events
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

  bool enabled() const { return enabled_; }
  // Ends the running phase (if any) and starts `phase`; nullptr only ends it.
  void start(const char* phase);
  // Adds `ms` of the host's own time (allocation, waiting, observers) to `phase`.
  void add_host(const char* phase, double ms);

 private:
  cudaStream_t stream_;
  bool enabled_;
  const char* running_ = nullptr;
  cudaEvent_t running_since_ = nullptr;
  std::chrono::steady_clock::time_point born_ = std::chrono::steady_clock::now();  // the pass's wall clock
  std::vector<std::pair<const char*, std::pair<cudaEvent_t, cudaEvent_t>>> spans_;  // (phase, [begin, end])
  std::vector<std::pair<const char*, double>> host_spans_;                           // (phase, ms)
};

// Starts `phase` on construction and ends it on destruction.
class Phase {
 public:
  Phase(PhaseTimer& t, const char* phase) : t_(t) { t_.start(phase); }
  ~Phase() { t_.start(nullptr); }
  Phase(const Phase&) = delete;
  Phase& operator=(const Phase&) = delete;

 private:
  PhaseTimer& t_;
};

// Host time from construction to destruction, added to `phase`.
class HostSpan {
 public:
  HostSpan(PhaseTimer& t, const char* phase) : t_(t), phase_(phase) {}
  ~HostSpan() {
    if (t_.enabled()) {
      t_.add_host(phase_, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since_).count());
    }
  }
  HostSpan(const HostSpan&) = delete;
  HostSpan& operator=(const HostSpan&) = delete;

 private:
  PhaseTimer& t_;
  const char* phase_;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
};

}  // namespace bentov::cuda
