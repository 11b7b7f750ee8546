#include "bentov/io/atomic_file.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include <fstream>
#include <random>
#include <system_error>

#include "bentov/error.h"

namespace bentov::io {
namespace fs = std::filesystem;

namespace {

// The registry the signal handler reads: fixed slots (no allocation in the handler), each
// free (0), being written (1) or live (2).
constexpr int kSlots = 64;
constexpr std::size_t kPathMax = 4096;
struct Slot {
  std::atomic<int> state{0};
  char path[kPathMax];
};
Slot g_slots[kSlots];

extern "C" void remove_temporaries_and_reraise(int sig) {
  for (auto& s : g_slots) {
    if (s.state.load() == 2) ::unlink(s.path);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_handlers_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
      struct sigaction sa {};
      sa.sa_handler = remove_temporaries_and_reraise;
      sigemptyset(&sa.sa_mask);
      for (int other : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sa.sa_mask, other);
      sa.sa_flags = SA_RESETHAND;
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

// A sibling of `target` that no other writer picks: ".name.tmp-<pid>-<random>".
fs::path temporary_sibling(const fs::path& target) {
  std::random_device rd;
  auto name = "." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
              std::to_string(rd());
  return target.parent_path() / name;
}

void ensure_parent(const fs::path& path) {
  auto parent = path.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    throw IoError("cannot create directory '" + parent.string() + "': " + ec.message(),
                  "check the output path and its permissions");
  }
}

void commit(const fs::path& tmp, const fs::path& path) {
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw IoError("cannot write '" + path.string() + "': " + ec.message(),
                  "check the output path and its permissions");
  }
}

}  // namespace

void register_temporary(const fs::path& tmp) {
  install_handlers_once();
  std::error_code ec;
  const std::string s = fs::absolute(tmp, ec).string();
  if (s.size() >= kPathMax) return;  // not tracked; the temporary name is still unique
  for (auto& slot : g_slots) {
    int expected = 0;
    if (slot.state.compare_exchange_strong(expected, 1)) {
      std::memcpy(slot.path, s.c_str(), s.size() + 1);
      slot.state.store(2);
      return;
    }
  }
}

void unregister_temporary(const fs::path& tmp) {
  std::error_code ec;
  const std::string s = fs::absolute(tmp, ec).string();
  for (auto& slot : g_slots) {
    if (slot.state.load() == 2 && s == slot.path) {
      int expected = 2;
      slot.state.compare_exchange_strong(expected, 0);
      return;
    }
  }
}

void write_file_atomic_via(const fs::path& path,
                           const std::function<void(const fs::path& tmp)>& fill) {
  ensure_parent(path);
  const fs::path tmp = temporary_sibling(path);
  register_temporary(tmp);
  try {
    fill(tmp);
    commit(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    unregister_temporary(tmp);
    throw;
  }
  unregister_temporary(tmp);
}

void write_file_atomic(const fs::path& path, const std::function<void(std::ostream&)>& fill) {
  write_file_atomic_via(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw IoError("cannot open '" + tmp.string() + "' for writing",
                    "check that the output folder exists and is writable");
    }
    fill(out);
    out.flush();
    if (!out) throw IoError("write to '" + path.string() + "' failed", "is the disk full?");
  });
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  write_file_atomic(path, [&](std::ostream& out) {
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  });
}

}  // namespace bentov::io
