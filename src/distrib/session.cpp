#include "bentov/distrib/session.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "bentov/error.h"
#include "bentov/exit_codes.h"
#include "bentov/ops/parallel.h"

#if BENTOV_WITH_MPI
#include <mpi.h>

#include <climits>
#include <cstring>
#include <cstdint>
#include <limits>
#include <string>
#endif

namespace bentov::distrib {

namespace {

// Set by the usual launchers: Open MPI (mpirun), PMIx (srun --mpi=pmix, prterun), PMI-1/2
// (MPICH's hydra, srun --mpi=pmi2).
bool launched_by_mpi() {
  if (const char* forced = std::getenv("BENTOV_MPI")) return std::string(forced) == "1";
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"}) {
    const char* s = std::getenv(v);
    if (s && *s) return true;
  }
  return false;
}

}  // namespace

int Session::default_threads() const {
  const int mine = ops::default_threads();  // sched_getaffinity
  const unsigned hw = std::thread::hardware_concurrency();
  if (size_ > 1 && hw > 0 && static_cast<unsigned>(mine) >= hw) return std::max(1, mine / local_size_);
  return mine;
}

#if BENTOV_WITH_MPI

bool built_with_mpi() { return true; }

namespace {

constexpr int kTagPlan = 1;
constexpr int kTagRequest = 2;
constexpr int kTagReply = 3;
constexpr std::uint64_t kStop = std::numeric_limits<std::uint64_t>::max();

[[noreturn]] void mpi_failed(const char* what, int rc) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw IoError(std::string("MPI: ") + what + " failed: " + std::string(msg, static_cast<std::size_t>(len)),
                "check the MPI installation and the mpirun command line");
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) mpi_failed(what, rc);
}

int count_of(std::size_t bytes) {
  if (bytes > static_cast<std::size_t>(INT_MAX)) {
    throw UsageError("a message between ranks would exceed 2 GiB", "split the corpus into several runs");
  }
  return static_cast<int>(bytes);
}

// Receives the next message with `tag` from `source` without spinning a core: probes, and
// sleeps `nap` between probes (ranks may share cores with each other).
std::string receive(int source, int tag, std::chrono::microseconds nap, int* from = nullptr) {
  MPI_Status st;
  for (;;) {
    int flag = 0;
    check(MPI_Iprobe(source, tag, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
    if (flag) break;
    std::this_thread::sleep_for(nap);
  }
  int count = 0;
  MPI_Get_count(&st, MPI_CHAR, &count);
  std::string bytes(static_cast<std::size_t>(count), '\0');
  check(MPI_Recv(bytes.data(), count, MPI_CHAR, st.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  if (from) *from = st.MPI_SOURCE;
  return bytes;
}

class MpiChannel final : public Channel {
 public:
  MpiChannel(int size, bool concurrent) : size_(size), concurrent_(concurrent) {}
  int workers() const override { return size_ - 1; }
  bool concurrent() const override { return concurrent_; }
  void send_plan(const std::string& plan) override {
    for (int r = 1; r < size_; ++r) {
      check(MPI_Send(plan.data(), count_of(plan.size()), MPI_CHAR, r, kTagPlan, MPI_COMM_WORLD), "MPI_Send (plan)");
    }
    state = kSent;
  }
  std::optional<Request> poll(std::chrono::milliseconds wait) override {
    int flag = 0;
    MPI_Status st;
    check(MPI_Iprobe(MPI_ANY_SOURCE, kTagRequest, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
    if (!flag) {
      std::this_thread::sleep_for(wait);
      return std::nullopt;
    }
    Request req;
    req.result = receive(st.MPI_SOURCE, kTagRequest, std::chrono::microseconds(50), &req.rank);
    return req;
  }
  void reply(int rank, std::optional<std::size_t> item) override {
    const std::uint64_t v = item ? static_cast<std::uint64_t>(*item) : kStop;
    check(MPI_Send(&v, 1, MPI_UINT64_T, rank, kTagReply, MPI_COMM_WORLD), "MPI_Send (reply)");
  }
  void close() override { state = kClosed; }

  // Before the plan: the other ranks wait for it; an empty plan tells them to leave.
  void give_up_before_plan() {
    for (int r = 1; r < size_; ++r) MPI_Send(nullptr, 0, MPI_CHAR, r, kTagPlan, MPI_COMM_WORLD);
    state = kClosed;
  }

  enum State { kIdle, kSent, kClosed } state = kIdle;

 private:
  int size_;
  bool concurrent_;
};

class MpiLink final : public Link {
 public:
  std::optional<std::string> receive_plan() override {
    std::string plan = receive(0, kTagPlan, std::chrono::milliseconds(2));
    if (plan.empty()) {
      done = true;
      return std::nullopt;
    }
    return plan;
  }
  std::optional<std::size_t> request(const std::string& result) override {
    check(MPI_Send(result.data(), count_of(result.size()), MPI_CHAR, 0, kTagRequest, MPI_COMM_WORLD),
          "MPI_Send (result)");
    const std::string r = receive(0, kTagReply, std::chrono::microseconds(100));
    std::uint64_t v = kStop;
    if (r.size() != sizeof v) throw FormatError("MPI: malformed reply from rank 0");
    std::memcpy(&v, r.data(), sizeof v);
    if (v == kStop) {
      done = true;
      return std::nullopt;
    }
    return static_cast<std::size_t>(v);
  }
  bool done = false;
};

}  // namespace

struct Session::Impl {
  bool mpi = false;
  int thread_level = MPI_THREAD_SINGLE;
  std::unique_ptr<MpiChannel> channel;
  std::unique_ptr<MpiLink> link;
};

Session::Session() : impl_(std::make_unique<Impl>()) {
  if (!launched_by_mpi()) return;
  int provided = MPI_THREAD_SINGLE;
  // SERIALIZED: rank 0's server thread makes every MPI call while its main thread runs items.
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  impl_->mpi = true;
  impl_->thread_level = provided;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  MPI_Comm local;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_free(&local);
  }
}

Session::~Session() {
  if (!impl_->mpi) return;
  if (impl_->channel && impl_->channel->state == MpiChannel::kSent) {
    MPI_Abort(MPI_COMM_WORLD, kExitNothing);  // rank 0 failed mid-run: the other ranks would wait forever
  }
  if (rank_ == 0 && size_ > 1 && (!impl_->channel || impl_->channel->state == MpiChannel::kIdle)) {
    channel();
    impl_->channel->give_up_before_plan();
  }
  if (rank_ > 0 && (!impl_->link || !impl_->link->done)) MPI_Abort(MPI_COMM_WORLD, kExitNothing);
  MPI_Finalize();
}

Channel* Session::channel() {
  if (rank_ != 0 || size_ < 2) return nullptr;
  if (!impl_->channel) impl_->channel = std::make_unique<MpiChannel>(size_, impl_->thread_level >= MPI_THREAD_SERIALIZED);
  return impl_->channel.get();
}

Link* Session::link() {
  if (rank_ == 0) return nullptr;
  if (!impl_->link) impl_->link = std::make_unique<MpiLink>();
  return impl_->link.get();
}

#else  // a build without MPI: rank 0 of 1

bool built_with_mpi() { return false; }

struct Session::Impl {};

Session::Session() : impl_(std::make_unique<Impl>()) {
  if (launched_by_mpi()) {
    // mpirun -n 4 of a build without MPI would run the whole study 4 times over.
    const char* n = std::getenv("OMPI_COMM_WORLD_SIZE");
    if (!n) n = std::getenv("PMI_SIZE");
    if (n && std::string(n) != "1") {
      throw UsageError("this bentov was built without MPI but runs under an MPI launcher (" + std::string(n) +
                           " processes)",
                       "rebuild with -DBENTOV_WITH_MPI=ON, or run it without mpirun");
    }
  }
}
Session::~Session() = default;
Channel* Session::channel() { return nullptr; }
Link* Session::link() { return nullptr; }

#endif

}  // namespace bentov::distrib
