// Running a plan's items over ranks. Rank 0 coordinates: it sends the plan to every other
// rank, then answers each rank's "here is my last result, what next?" with the next item of
// the Scheduler (or "stop"), keeps every result (and journals it), and also runs items itself
// while a thread serves the other ranks. The transport is behind Channel (rank 0's side) and
// Link (another rank's side): MPI in session.cpp, in-memory queues in the unit tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bentov/analysis/pipeline.h"
#include "bentov/distrib/item_result.h"
#include "bentov/distrib/journal.h"
#include "bentov/distrib/plan.h"

namespace bentov::distrib {

// Rank 0's side of the transport.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual int workers() const = 0;  // the other ranks, numbered 1 .. workers()
  // May rank 0 run items while another thread of it serves the channel?
  virtual bool concurrent() const = 0;
  virtual void send_plan(const std::string& plan) = 0;
  struct Request {
    int rank = 0;
    std::string result;  // the rank's last item's encoded result; empty on its first request
  };
  // The next request, or nullopt if none came within `wait`.
  virtual std::optional<Request> poll(std::chrono::milliseconds wait) = 0;
  virtual void reply(int rank, std::optional<std::size_t> item) = 0;  // nullopt: stop
  // Every rank has been told to stop; the run is complete.
  virtual void close() = 0;
};

// Another rank's side.
class Link {
 public:
  virtual ~Link() = default;
  virtual std::optional<std::string> receive_plan() = 0;  // nullopt: rank 0 gave up before the plan
  // Sends `result` (empty the first time), returns the next item or nullopt: stop.
  virtual std::optional<std::size_t> request(const std::string& result) = 0;
};

// Runs items of one plan in this process, keeping the last corpus checkpoint loaded (a rank
// maps only the checkpoints of the items it gets). Never throws for an item's own failure:
// bentov errors, exceptions and running out of memory become ItemResult::error.
class ItemRunner {
 public:
  ItemRunner(const Plan& plan, analysis::RunOptions options);
  ~ItemRunner();
  ItemResult run(std::size_t item);

 private:
  const Plan& plan_;
  analysis::RunOptions options_;
  std::optional<std::size_t> loaded_spec_;
  std::unique_ptr<analysis::CorpusModelRun> loaded_;
  std::optional<analysis::Failure> load_error_;
};

// Rank 0: runs every item of `plan` (those finished in `journal` excepted) on this process
// and, through `channel` (null or no workers: this process alone), on the other ranks;
// journals each result as it arrives. Returns every item's result in plan order.
std::vector<ItemResult> coordinate(const Plan& plan, Channel* channel, Journal* journal,
                                   const analysis::RunOptions& options);

// Any other rank: receives the plan, runs items until told to stop. Returns false when rank 0
// gave up before sending a plan.
bool serve(Link& link, const analysis::RunOptions& options);

// Test hook (documented in docs/CLUSTER.md): BENTOV_DISTRIB_CRASH_ITEM=N makes the process
// that gets item N abort, as a crashing rank would.
void maybe_crash_for_test(std::size_t item);

}  // namespace bentov::distrib
