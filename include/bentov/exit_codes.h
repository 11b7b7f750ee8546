// The exit codes of `bentov` (DESIGN.md section 2): the CLI returns them, and an MPI rank that
// must end the whole job aborts it with the one that fits.
#pragma once

namespace bentov {

inline constexpr int kExitOk = 0;
inline constexpr int kExitSomeFailed = 1;  // some models analyzed, some failed
inline constexpr int kExitUsage = 2;       // bad flags or arguments
inline constexpr int kExitNothing = 3;     // nothing could be analyzed

}  // namespace bentov
