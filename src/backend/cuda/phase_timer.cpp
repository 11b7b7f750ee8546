#include "phase_timer.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace bentov::cuda {

PhaseTimer::PhaseTimer(cudaStream_t stream) : stream_(stream), enabled_(std::getenv("BENTOV_CUDA_PHASES") != nullptr) {}

void PhaseTimer::start(const char* phase) {
  if (!enabled_ || (!running_ && !phase)) return;
  cudaEvent_t now = nullptr;
  cudaEventCreate(&now);
  cudaEventRecord(now, stream_);
  if (running_) spans_.push_back({running_, {running_since_, now}});
  running_ = phase;
  running_since_ = now;
}

void PhaseTimer::add_host(const char* phase, double ms) {
  if (enabled_) host_spans_.push_back({phase, ms});
}

PhaseTimer::~PhaseTimer() {
  if (!enabled_) return;
  start(nullptr);
  cudaStreamSynchronize(stream_);
  std::map<std::string, std::pair<double, int>> total;  // phase -> (ms, spans)
  for (const auto& [phase, span] : spans_) {
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, span.first, span.second);
    auto& t = total[phase];
    t.first += ms;
    ++t.second;
  }
  // An event ends one span and begins the next: destroy each once.
  std::vector<cudaEvent_t> events;
  for (const auto& [phase, span] : spans_) events.push_back(span.first), events.push_back(span.second);
  std::sort(events.begin(), events.end());
  events.erase(std::unique(events.begin(), events.end()), events.end());
  for (cudaEvent_t e : events) cudaEventDestroy(e);
  for (const auto& [phase, ms] : host_spans_) {
    auto& t = total[phase];
    t.first += ms;
    ++t.second;
  }
  total["pass"] = {std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - born_).count(), 1};
  for (const auto& [phase, t] : total) std::fprintf(stderr, "bentov cuda phase %-12s %9.3f ms (%d)\n", phase.c_str(), t.first, t.second);
}

}  // namespace bentov::cuda
