// Refusing work that would not fit in memory, up front and with the figure, instead of being
// killed by the kernel halfway.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace bentov::io {

// Bytes this process may still use: $BENTOV_MEMORY_LIMIT when set (bytes, or with a K/M/G/T
// suffix: "8G"), else the smaller of MemAvailable + SwapFree (/proc/meminfo) and the room
// left under the cgroup's memory limit (v2 or v1); nullopt when unknown.
std::optional<std::uint64_t> available_memory_bytes();

// "1.5 GiB", "312 MiB", "4 KiB", "17 bytes".
std::string format_bytes(std::uint64_t bytes);

// Throws InputError "<what> needs <need> of memory but only <available> is available" with
// `hint` when `need_bytes` exceeds available_memory_bytes(); does nothing when unknown.
void check_memory(std::uint64_t need_bytes, const std::string& what, const std::string& hint);

}  // namespace bentov::io
