#include "bentov/ops/phase_clock.h"

#include <cstdio>
#include <cstdlib>

namespace bentov::ops {

PhaseClock::PhaseClock(std::string title) : title_(std::move(title)) {
  const char* v = std::getenv("BENTOV_CPU_PHASES");
  enabled_ = v && *v && std::string(v) != "0";
}

PhaseClock::~PhaseClock() {
  if (!enabled_) return;
  const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - born_).count();
  std::fprintf(stderr, "  bentov cpu phase %-24s %10.3f ms\n", (title_ + " (wall)").c_str(), wall);
  for (const auto& [phase, total] : totals_) {
    std::fprintf(stderr, "  bentov cpu phase %-24s %10.3f ms (%ld)\n", phase.c_str(), total.ms, total.calls);
  }
}

void PhaseClock::add(const char* phase, double ms) {
  const std::lock_guard lock(mutex_);
  Total& t = totals_[phase];
  t.ms += ms;
  ++t.calls;
}

}  // namespace bentov::ops
