#include "io/hf_hub_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace bentov::io::hub {

namespace {
constexpr int kBarWidth = 24;
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
}  // namespace

std::string human_bytes(std::uint64_t n) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

Progress::Progress(bool enabled, std::string label, std::uint64_t total)
    : enabled_(enabled),
      tty_(enabled && ::isatty(STDERR_FILENO) == 1),
      label_(std::move(label)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  // A bar left mid-line (the download failed) ends its line before the error is printed.
  if (enabled_ && tty_ && started_ && !finished_) std::fputc('\n', stderr);
}

void Progress::update(std::uint64_t done) {
  if (!started_) {
    started_ = true;
    start_done_ = done;
  }
  done_ = done;
  if (!tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  draw(false);
}

void Progress::note(const std::string& line) {
  if (!enabled_) return;
  if (tty_ && started_) std::fputc('\n', stderr);
  std::fprintf(stderr, "%s: %s\n", label_.c_str(), line.c_str());
  std::fflush(stderr);
}

void Progress::finish(std::uint64_t done) {
  if (!started_) {
    started_ = true;
    start_done_ = done;
  }
  done_ = done;
  if (total_ == 0) total_ = done;
  draw(true);
  finished_ = true;
}

void Progress::draw(bool final) {
  if (!enabled_ || (!tty_ && !final)) return;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0.0 ? static_cast<double>(done_ - start_done_) / secs : 0.0;
  std::string line = label_ + "  ";
  if (total_ > 0) {
    const double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    const int fill = static_cast<int>(frac * kBarWidth);
    line += "[" + std::string(static_cast<std::size_t>(fill), '=') +
            (fill < kBarWidth ? ">" + std::string(static_cast<std::size_t>(kBarWidth - fill - 1), ' ') : "") +
            "] ";
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(frac * 100.0));
    line += std::string(pct) + "  " + human_bytes(done_) + "/" + human_bytes(total_);
  } else {
    line += human_bytes(done_);
  }
  line += "  " + human_bytes(static_cast<std::uint64_t>(rate)) + "/s";
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace bentov::io::hub
