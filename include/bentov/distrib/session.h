// One process's place in a run: rank and size, and the transport between ranks. In a build
// with BENTOV_WITH_MPI, a process started by an MPI launcher (mpirun, mpiexec, srun: the
// launcher's environment says so; BENTOV_MPI=1 forces it) initializes MPI; any other
// process, and every process of a build without MPI, is rank 0 of 1 and never touches MPI.
#pragma once

#include <memory>

#include "bentov/distrib/coordinator.h"

namespace bentov::distrib {

// Whether this build has MPI (BENTOV_WITH_MPI=ON).
bool built_with_mpi();

class Session {
 public:
  Session();
  ~Session();  // MPI_Finalize; MPI_Abort when this rank leaves a started run unfinished
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool worker() const { return rank_ > 0; }

  // Rank 0 of several: the other ranks (null otherwise). Owned by the session.
  Channel* channel();
  // Any other rank: rank 0. Owned by the session.
  Link* link();

  // Threads per rank when --threads is not given: the cores this process may run on, shared
  // among the ranks of its node unless the launcher already bound it to fewer cores.
  int default_threads() const;

  struct Impl;

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_size_ = 1;  // ranks on this node
  std::unique_ptr<Impl> impl_;
};

}  // namespace bentov::distrib
