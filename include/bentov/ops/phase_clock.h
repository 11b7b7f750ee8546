// Where a CPU pass's time goes, for profiling without a profiler (the CPU twin of the CUDA
// backend's BENTOV_CUDA_PHASES): with BENTOV_CPU_PHASES set, each phase's time is summed, and
// the totals are printed to stderr, in milliseconds, when the clock ends. Phases timed around a
// parallel section are wall time (their imbalance included); phases timed inside the workers
// ("worker" in the name) are the workers' time summed. Unset, it does nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace bentov::ops {

class PhaseClock {
 public:
  explicit PhaseClock(std::string title);
  ~PhaseClock();  // prints the totals
  PhaseClock(const PhaseClock&) = delete;
  PhaseClock& operator=(const PhaseClock&) = delete;

  bool enabled() const { return enabled_; }
  void add(const char* phase, double ms);  // thread-safe

 private:
  struct Total {
    double ms = 0.0;
    long calls = 0;
  };
  std::string title_;
  bool enabled_;
  std::mutex mutex_;
  std::map<std::string, Total> totals_;
  std::chrono::steady_clock::time_point born_ = std::chrono::steady_clock::now();
};

// The time from construction to destruction, added to `phase`.
class PhaseSpan {
 public:
  PhaseSpan(PhaseClock& clock, const char* phase) : clock_(clock), phase_(phase) {
    if (clock_.enabled()) since_ = std::chrono::steady_clock::now();
  }
  ~PhaseSpan() {
    if (clock_.enabled()) {
      clock_.add(phase_, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since_).count());
    }
  }
  PhaseSpan(const PhaseSpan&) = delete;
  PhaseSpan& operator=(const PhaseSpan&) = delete;

 private:
  PhaseClock& clock_;
  const char* phase_;
  std::chrono::steady_clock::time_point since_{};
};

}  // namespace bentov::ops
