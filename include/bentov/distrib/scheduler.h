// Dynamic load balancing of work items over ranks: a rank asks for work when it is free and
// gets the costliest item left (longest-processing-time first: a large checkpoint never
// waits behind small ones and the run ends with short items filling the gaps), except that a
// rank keeps to the checkpoint it has loaded while that checkpoint's next item costs at least
// half the costliest one left (no reload of the same weights for nearly no gain).
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "bentov/distrib/plan.h"

namespace bentov::distrib {

class Scheduler {
 public:
  explicit Scheduler(const std::vector<WorkItem>& items);

  // Items already finished (a resumed run's journal): never handed out.
  void mark_done(std::size_t item);
  // The item `rank` should run next; nullopt when none is left to hand out. Thread-safe.
  std::optional<std::size_t> next(int rank);
  // `item` (handed out before) is finished. Thread-safe.
  void finish(std::size_t item);

  std::size_t pending() const;   // not yet handed out
  std::size_t finished() const;  // finished or marked done
  bool all_finished() const;

 private:
  enum class State { kPending, kRunning, kDone };
  std::vector<WorkItem> items_;
  std::vector<State> state_;
  std::vector<std::size_t> order_;  // item indices, costliest first (ties: plan order)
  std::map<int, std::size_t> last_spec_;  // rank -> spec of its last item
  std::size_t finished_ = 0;
  mutable std::mutex mutex_;
};

}  // namespace bentov::distrib
