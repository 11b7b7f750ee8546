// A per-file download progress bar on stderr. On a terminal it redraws one line
// ("model.safetensors  [=======>     ]  48%  341.2 MB/713.6 MB  52.1 MB/s"); when stderr is
// a file or pipe it prints one line per file when it ends, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace bentov::io::hub {

class Progress {
 public:
  // `enabled` false prints nothing (--quiet). `total` 0 means unknown.
  Progress(bool enabled, std::string label, std::uint64_t total);
  ~Progress();

  // `done` bytes of the file are on disk (resumed bytes included).
  void update(std::uint64_t done);
  // A one-line note (a dropped connection being resumed) that does not break the bar.
  void note(const std::string& line);
  // The file is complete.
  void finish(std::uint64_t done);

 private:
  void draw(bool final);

  bool enabled_;
  bool tty_;
  bool finished_ = false;
  std::string label_;
  std::uint64_t total_;
  std::uint64_t done_ = 0;
  std::uint64_t start_done_ = 0;  // bytes already present when this run began
  bool started_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "713.6 kB", "1.2 GB" (decimal units, as huggingface_hub's tqdm bars).
std::string human_bytes(std::uint64_t n);

}  // namespace bentov::io::hub
