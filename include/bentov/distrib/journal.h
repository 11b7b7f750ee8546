// The journal of a distributed or resumable run: the finished work items, kept beside the
// outputs so that `--resume` redoes only what an interrupted run left. A folder
// (journal_path: the primary output's path + ".journal") holding
//   plan.json          {"format": "bentov-journal-1", "bentov_version", "fingerprint",
//                       "mode", "specs", "items"}: the run it belongs to (plan.h fingerprint)
//   item-NNNNNN.json   one finished item's result (item_result.h), NNNNNN its plan index
//   attempts.json      {"N": runs that handed item N out without it finishing}
// Every file is written to a temporary sibling and renamed (io/atomic_file.h), so a run killed
// at any moment leaves only whole files. Only rank 0 writes it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "bentov/distrib/plan.h"

namespace bentov::distrib {

// An item handed out in this many runs that all stopped before it finished is not tried
// again: it is reported as failed (it probably brings its rank down).
inline constexpr int kMaxAttempts = 2;

std::filesystem::path journal_path(const std::filesystem::path& primary_output);

class Journal {
 public:
  // resume: loads the finished items of the journal at `dir` if there is one (UsageError
  // when it belongs to another run: different fingerprint). Without resume, a journal left
  // at `dir` is cleared. Either way `dir` then holds this plan's plan.json.
  Journal(std::filesystem::path dir, const Plan& plan, bool resume,
          const std::function<void(const std::string&)>& progress = {});

  const std::filesystem::path& dir() const { return dir_; }
  // item -> its encoded result (item_result.h), as loaded when resuming.
  const std::map<std::size_t, std::string>& loaded() const { return loaded_; }
  // item -> runs that handed it out without it finishing (attempts.json at start).
  const std::map<std::size_t, int>& attempts() const { return attempts_; }

  // Thread-safe; each rewrites attempts.json (and writes the item's file) atomically.
  void started(std::size_t item);
  // `item` ended: its result is kept when `encoded` is not empty (a failed item passes ""
  // so that --resume runs it again).
  void finished(std::size_t item, const std::string& encoded);

  // The run is complete and its outputs written: deletes the folder.
  void remove();

 private:
  void write_attempts();  // mutex_ held

  std::filesystem::path dir_;
  std::map<std::size_t, std::string> loaded_;
  std::map<std::size_t, int> attempts_;
  std::mutex mutex_;
};

}  // namespace bentov::distrib
