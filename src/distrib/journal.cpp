#include "bentov/distrib/journal.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <system_error>

#include "bentov/distrib/item_result.h"
#include "bentov/error.h"
#include "bentov/io/atomic_file.h"
#include "bentov/io/json_file.h"
#include "bentov/version.h"

namespace bentov::distrib {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "bentov-journal-1";
constexpr std::size_t kMaxItemBytes = std::size_t{1} << 31;

std::string item_file(std::size_t item) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "item-%06zu.json", item);
  return buf;
}

// "item-000042.json" -> 42.
std::optional<std::size_t> item_of(const std::string& name) {
  if (name.size() < 11 || name.rfind("item-", 0) != 0 || name.substr(name.size() - 5) != ".json") return std::nullopt;
  const std::string digits = name.substr(5, name.size() - 10);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return static_cast<std::size_t>(std::stoull(digits));
}

}  // namespace

fs::path journal_path(const fs::path& primary_output) {
  return fs::path(primary_output.string() + ".journal");
}

Journal::Journal(fs::path dir, const Plan& plan, bool resume,
                 const std::function<void(const std::string&)>& progress)
    : dir_(std::move(dir)) {
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };
  const std::string fp = fingerprint(plan);
  const fs::path plan_file = dir_ / "plan.json";
  std::error_code ec;
  const bool exists = fs::exists(dir_, ec);
  if (exists && !fs::exists(plan_file, ec) && !fs::is_empty(dir_, ec)) {
    throw UsageError("'" + dir_.string() + "' exists and is not a bentov journal",
                     "move it away: bentov keeps the journal of a run there");
  }
  if (exists && resume && fs::exists(plan_file, ec)) {
    const json p = io::read_json_file(plan_file);
    if (p.value("format", "") != kFormat || p.value("fingerprint", "") != fp) {
      throw UsageError("the journal '" + dir_.string() + "' belongs to another run (other models, texts or options)",
                       "run without --resume to start over, or give the interrupted run's exact arguments");
    }
    for (const auto& e : fs::directory_iterator(dir_)) {
      const auto item = item_of(e.path().filename().string());
      if (!item) continue;
      if (*item >= plan.items.size()) {
        throw FormatError("'" + e.path().string() + "' names an item the run does not have",
                          "delete it (or the whole journal) and resume again");
      }
      std::string bytes = io::read_file_bytes(e.path(), kMaxItemBytes);
      std::size_t inside = 0;
      decode_result(bytes, e.path().string(), &inside);  // validates
      if (inside != *item) {
        throw FormatError("'" + e.path().string() + "' holds item " + std::to_string(inside),
                          "delete it (or the whole journal) and resume again");
      }
      loaded_[*item] = std::move(bytes);
    }
    if (fs::exists(dir_ / "attempts.json", ec)) {
      const json a = io::read_json_file(dir_ / "attempts.json");
      if (!a.is_object()) throw FormatError("'" + (dir_ / "attempts.json").string() + "' is not a JSON object");
      for (const auto& [k, v] : a.items()) {
        const auto item = static_cast<std::size_t>(std::stoull(k));
        if (item < plan.items.size() && !loaded_.count(item)) attempts_[item] = v.get<int>();
      }
    }
    say("resuming from " + dir_.string() + ": " + std::to_string(loaded_.size()) + " of " +
        std::to_string(plan.items.size()) + " work items already finished");
  } else {
    if (resume) say("no journal at " + dir_.string() + ": starting from the beginning");
    if (exists) fs::remove_all(dir_, ec);
    if (ec) throw IoError("cannot clear the old journal '" + dir_.string() + "': " + ec.message());
  }
  fs::create_directories(dir_, ec);
  if (ec) {
    throw IoError("cannot create the journal folder '" + dir_.string() + "': " + ec.message(),
                  "check that the output folder is writable");
  }
  json p = json::object();
  p["format"] = kFormat;
  p["bentov_version"] = BENTOV_VERSION;
  p["fingerprint"] = fp;
  p["mode"] = plan.mode == Mode::kText ? "text" : "corpus";
  p["specs"] = plan.specs;
  p["items"] = plan.items.size();
  io::write_file_atomic(plan_file, p.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  std::lock_guard lock(mutex_);
  write_attempts();
}

void Journal::write_attempts() {
  json a = json::object();
  for (const auto& [item, n] : attempts_) a[std::to_string(item)] = n;
  io::write_file_atomic(dir_ / "attempts.json", a.dump() + "\n");
}

void Journal::started(std::size_t item) {
  std::lock_guard lock(mutex_);
  ++attempts_[item];
  write_attempts();
}

void Journal::finished(std::size_t item, const std::string& encoded) {
  std::lock_guard lock(mutex_);
  if (!encoded.empty()) io::write_file_atomic(dir_ / item_file(item), encoded);
  attempts_.erase(item);
  write_attempts();
}

void Journal::remove() {
  std::lock_guard lock(mutex_);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace bentov::distrib
