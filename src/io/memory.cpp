#include "bentov/io/memory.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "bentov/error.h"

namespace bentov::io {

namespace {

std::optional<std::uint64_t> parse_size(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(s, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::uint64_t mult = 1;
  if (used < s.size()) {
    switch (s[used]) {
      case 'K': case 'k': mult = 1ull << 10; break;
      case 'M': case 'm': mult = 1ull << 20; break;
      case 'G': case 'g': mult = 1ull << 30; break;
      case 'T': case 't': mult = 1ull << 40; break;
      default: return std::nullopt;
    }
  }
  return static_cast<std::uint64_t>(v) * mult;
}

}  // namespace

namespace {

std::optional<std::uint64_t> read_number(const char* path) {
  std::ifstream in(path);
  std::string v;
  if (!(in >> v) || v == "max") return std::nullopt;
  return parse_size(v);
}

// What the cgroup still lets this process use: memory.max - memory.current (cgroup v2), or
// memory.limit_in_bytes - memory.usage_in_bytes (v1); nullopt without a limit.
std::optional<std::uint64_t> cgroup_room() {
  auto limit = read_number("/sys/fs/cgroup/memory.max");
  auto used = read_number("/sys/fs/cgroup/memory.current");
  if (!limit) {
    limit = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    used = read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
    if (limit && *limit >= (1ull << 60)) return std::nullopt;  // v1's "no limit"
  }
  if (!limit) return std::nullopt;
  const std::uint64_t u = used.value_or(0);
  return *limit > u ? *limit - u : 0;
}

std::optional<std::uint64_t> meminfo_available() {
  std::ifstream in("/proc/meminfo");
  if (!in) return std::nullopt;
  std::string key, unit;
  std::uint64_t value = 0, avail = 0;
  bool found = false;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:" || key == "SwapFree:") {
      avail += value * 1024;  // kB
      found = true;
    }
  }
  if (!found) return std::nullopt;
  return avail;
}

}  // namespace

std::optional<std::uint64_t> available_memory_bytes() {
  if (const char* env = std::getenv("BENTOV_MEMORY_LIMIT"); env && *env) {
    if (auto v = parse_size(env)) return v;
  }
  const auto meminfo = meminfo_available();
  const auto cgroup = cgroup_room();
  if (meminfo && cgroup) return std::min(*meminfo, *cgroup);
  return meminfo ? meminfo : cgroup;
}

std::string format_bytes(std::uint64_t b) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024.0 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  char buf[48];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(b));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

void check_memory(std::uint64_t need_bytes, const std::string& what, const std::string& hint) {
  const auto avail = available_memory_bytes();
  if (!avail || need_bytes <= *avail) return;
  throw InputError(what + " needs " + format_bytes(need_bytes) + " of memory but only " +
                       format_bytes(*avail) + " is available",
                   hint);
}

}  // namespace bentov::io
