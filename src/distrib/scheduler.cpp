#include "bentov/distrib/scheduler.h"

#include <algorithm>
#include <numeric>

#include "bentov/error.h"

namespace bentov::distrib {

Scheduler::Scheduler(const std::vector<WorkItem>& items)
    : items_(items), state_(items.size(), State::kPending), order_(items.size()) {
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  std::stable_sort(order_.begin(), order_.end(),
                   [&](std::size_t a, std::size_t b) { return items_[a].cost > items_[b].cost; });
}

void Scheduler::mark_done(std::size_t item) {
  std::lock_guard lock(mutex_);
  if (state_.at(item) != State::kDone) ++finished_;
  state_[item] = State::kDone;
}

std::optional<std::size_t> Scheduler::next(int rank) {
  std::lock_guard lock(mutex_);
  std::optional<std::size_t> costliest, same_spec;
  const auto last = last_spec_.find(rank);
  for (std::size_t i : order_) {
    if (state_[i] != State::kPending) continue;
    if (!costliest) costliest = i;
    if (last == last_spec_.end()) break;
    if (items_[i].spec == last->second) {
      same_spec = i;
      break;
    }
  }
  if (!costliest) return std::nullopt;
  std::size_t pick = *costliest;
  if (same_spec && items_[*same_spec].cost * 2.0 >= items_[*costliest].cost) pick = *same_spec;
  state_[pick] = State::kRunning;
  last_spec_[rank] = items_[pick].spec;
  return pick;
}

void Scheduler::finish(std::size_t item) {
  std::lock_guard lock(mutex_);
  if (state_.at(item) != State::kRunning) {
    throw FormatError("work item " + std::to_string(item) + " finished but was not handed out",
                      "every rank must run the same bentov build");
  }
  state_[item] = State::kDone;
  ++finished_;
}

std::size_t Scheduler::pending() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count(state_.begin(), state_.end(), State::kPending));
}

std::size_t Scheduler::finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

bool Scheduler::all_finished() const {
  std::lock_guard lock(mutex_);
  return finished_ == items_.size();
}

}  // namespace bentov::distrib
