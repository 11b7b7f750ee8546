#include "bentov/distrib/coordinator.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <new>
#include <thread>

#include "bentov/distrib/scheduler.h"
#include "bentov/error.h"

namespace bentov::distrib {

namespace {

void say(const analysis::RunOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

}  // namespace

void maybe_crash_for_test(std::size_t item) {
  const char* env = std::getenv("BENTOV_DISTRIB_CRASH_ITEM");
  if (env && *env && std::strtoull(env, nullptr, 10) == item) std::abort();
}

ItemRunner::ItemRunner(const Plan& plan, analysis::RunOptions options) : plan_(plan), options_(std::move(options)) {}
ItemRunner::~ItemRunner() = default;

ItemResult ItemRunner::run(std::size_t item) {
  maybe_crash_for_test(item);
  const WorkItem& it = plan_.items.at(item);
  const std::string& spec = plan_.specs.at(it.spec);
  ItemResult r;
  try {
    if (plan_.mode == Mode::kText) {
      r.model = analysis::analyze_model(spec, plan_.source, options_);
      return r;
    }
    if (loaded_spec_ != it.spec) {
      loaded_.reset();  // unmap the previous checkpoint first
      load_error_.reset();
      loaded_spec_ = it.spec;
      analysis::CorpusOptions co;
      co.max_tokens = plan_.max_tokens;
      try {
        loaded_ = std::make_unique<analysis::CorpusModelRun>(spec, options_, co);
      } catch (const Error& e) {
        load_error_ = analysis::failure_of(e);  // the same on every range: loaded once
      }
    }
    if (load_error_) {
      r.error = load_error_;
      return r;
    }
    r.model = loaded_->header();
    r.value_frob_sq = loaded_->value_frob_sq();
    loaded_->run_texts(plan_.corpus, it.begin, it.end, r.texts);
  } catch (const Error& e) {
    r.error = analysis::failure_of(e);
  } catch (const std::bad_alloc&) {
    r.error = analysis::Failure{spec + ": out of memory", "use shorter texts (--max-tokens) or fewer ranks per node"};
  } catch (const std::exception& e) {
    r.error = analysis::Failure{spec + ": internal error: " + e.what(), "please report this with the command line"};
  }
  if (r.error) say(options_, "error: " + r.error->line());
  return r;
}

std::vector<ItemResult> coordinate(const Plan& plan, Channel* channel, Journal* journal,
                                   const analysis::RunOptions& options) {
  const std::size_t n = plan.items.size();
  std::vector<std::optional<std::string>> encoded(n);
  Scheduler scheduler(plan.items);
  std::vector<std::optional<analysis::Failure>> given_up(n);  // items not tried again (kMaxAttempts)
  if (journal) {
    for (const auto& [item, bytes] : journal->loaded()) {
      encoded[item] = bytes;
      scheduler.mark_done(item);
    }
    for (const auto& [item, runs] : journal->attempts()) {
      if (runs < kMaxAttempts || encoded[item]) continue;
      given_up[item] = analysis::Failure{
          plan.specs[plan.items[item].spec] + ": work item " + std::to_string(item) + " (" + describe_item(plan, item) +
              ") was running when " + std::to_string(runs) + " earlier runs stopped (a crashed rank?); not tried again",
          "delete " + (journal->dir() / "attempts.json").string() + " to try it again"};
      scheduler.mark_done(item);
    }
  }
  const int workers = channel ? channel->workers() : 0;
  say(options, "distributed run: " + std::to_string(n) + " work items over " + std::to_string(workers + 1) +
                   (workers ? " ranks" : " rank") + (journal ? ", journal " + journal->dir().string() : ""));

  std::mutex mutex;  // guards `encoded`
  auto hand_out = [&](int rank) {
    auto item = scheduler.next(rank);
    if (item && journal) journal->started(*item);
    return item;
  };
  // A failed item is not journaled as finished: --resume tries it again (after a fix).
  auto store = [&](std::size_t item, std::string bytes, bool failed) {
    if (journal) journal->finished(item, failed ? std::string() : bytes);
    {
      std::lock_guard lock(mutex);
      encoded[item] = std::move(bytes);
    }
    scheduler.finish(item);
  };

  std::atomic<bool> abort{false};
  std::exception_ptr dispatch_error;
  auto dispatch = [&] {
    try {
      int stopped = 0;
      while (stopped < workers && !abort.load()) {
        auto req = channel->poll(std::chrono::milliseconds(1));
        if (!req) continue;
        if (!req->result.empty()) {
          std::size_t item = 0;
          const bool failed =
              decode_result(req->result, "the result of rank " + std::to_string(req->rank), &item).error.has_value();
          if (item >= n) throw FormatError("rank " + std::to_string(req->rank) + " returned an unknown work item");
          store(item, std::move(req->result), failed);
        }
        const auto next = hand_out(req->rank);
        channel->reply(req->rank, next);
        if (!next) ++stopped;
      }
    } catch (...) {
      dispatch_error = std::current_exception();
      abort = true;
    }
  };

  auto work_locally = [&] {
    ItemRunner runner(plan, options);
    while (!abort.load()) {
      const auto item = hand_out(0);
      if (!item) break;
      const ItemResult r = runner.run(*item);
      store(*item, encode_result(*item, r), r.error.has_value());
    }
  };

  if (workers > 0) {
    channel->send_plan(encode_plan(plan));
    if (channel->concurrent()) {
      std::thread server(dispatch);
      try {
        work_locally();
      } catch (...) {
        abort = true;
        server.join();
        throw;
      }
      server.join();
    } else {
      dispatch();  // rank 0 only coordinates
    }
    if (dispatch_error) std::rethrow_exception(dispatch_error);
    channel->close();
  } else {
    work_locally();
  }
  if (!scheduler.all_finished()) throw FormatError("internal: the run ended with work items unfinished");

  std::vector<ItemResult> results(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (given_up[i]) {
      results[i].error = given_up[i];
      continue;
    }
    results[i] = decode_result(*encoded[i], "work item " + std::to_string(i));
  }
  return results;
}

bool serve(Link& link, const analysis::RunOptions& options) {
  const auto bytes = link.receive_plan();
  if (!bytes) return false;
  const Plan plan = decode_plan(*bytes);
  analysis::RunOptions o = options;
  if (plan.threads > 0) o.threads = plan.threads;  // --threads of rank 0's command line
  ItemRunner runner(plan, o);
  std::string result;
  while (const auto item = link.request(result)) {
    if (*item >= plan.items.size()) throw FormatError("rank 0 handed out an unknown work item");
    result = encode_result(*item, runner.run(*item));
  }
  return true;
}

}  // namespace bentov::distrib
