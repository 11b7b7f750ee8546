// Hostile and broken inputs through the command line, as users meet them: every case of
// tests/data/malformed/cases.json (written by scripts/make_malformed.py) runs the bentov
// binary and must end with its expected exit code (0 for the valid controls, 1 to 3 for bad
// data, 2 for usage), a one-line "bentov: error: ..." plus "hint: ..." naming the problem,
// no crash or sanitizer report, and no temporary or half-written file left behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <span>
#include <fstream>
#include <ostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bentov/io/atomic_file.h"
#include "bentov/io/safetensors.h"
#include "support/cli.h"

namespace fs = std::filesystem;
using bentov::testing::run_cli;

namespace {

const fs::path kMalformed = fs::path(BENTOV_TEST_DATA_DIR) / "malformed";

struct Case {
  std::string name, command, message;
  int rc = 0;
};

// gtest and CTest name a case by this instead of its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> load_cases() {
  std::ifstream in(kMalformed / "cases.json");
  const auto j = nlohmann::json::parse(in);
  std::vector<Case> out;
  for (const auto& c : j.at("cases")) {
    out.push_back({c.at("name"), c.at("command"), c.at("message"), c.at("rc")});
  }
  return out;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// Files under `dir` whose names say they are temporaries of an atomic write.
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

class MalformedCli : public ::testing::TestWithParam<Case> {};

TEST_P(MalformedCli, ExitCodeMessageAndNoLeftovers) {
  const Case& c = GetParam();
  const fs::path out = fs::temp_directory_path() / ("bentov_malformed_" + std::to_string(::getpid()) + "_" + c.name);
  fs::remove_all(out);
  fs::create_directories(out);
  std::string cmd = c.command;
  replace_all(cmd, "{ck}", (kMalformed / "checkpoints").string());
  replace_all(cmd, "{texts}", (kMalformed / "texts").string());
  replace_all(cmd, "{out}", out.string());
  const auto r = run_cli(cmd);
  SCOPED_TRACE("bentov " + cmd + "\nstderr:\n" + r.err);
  EXPECT_EQ(r.rc, c.rc);
  // Never a sanitizer report, a crash or an uncaught exception.
  for (const char* bad : {"AddressSanitizer", "runtime error:", "LeakSanitizer", "terminate called", "internal error"}) {
    EXPECT_EQ(r.err.find(bad), std::string::npos) << bad;
  }
  // The message: on stderr as one "bentov: error: ..." line (followed by a "hint: ..." line
  // for data errors), or, for `analyze`, which reports failed models in its table and JSON and
  // goes on, in its output.
  const auto at = r.err.find("bentov: error: ");
  if (at != std::string::npos) {
    const std::string tail = r.err.substr(at);
    const std::string line = tail.substr(0, tail.find('\n'));
    EXPECT_LT(line.size(), 400u) << "the error line stays short";
    EXPECT_LE(std::count(tail.begin(), tail.end(), '\n'), 2);
    if (c.rc == 3) EXPECT_NE(tail.find("\nhint: "), std::string::npos) << "a hint follows the error";
    EXPECT_NE(line.find(c.message), std::string::npos) << "expected: " << c.message;
  } else if (c.rc == 3 || c.rc == 1) {
    ASSERT_EQ(cmd.rfind("analyze", 0), 0u) << "only analyze may report an error without 'bentov: error:'";
    EXPECT_NE((r.out + r.err).find(c.message), std::string::npos) << "expected: " << c.message;
  } else if (c.rc == 2) {
    EXPECT_FALSE(r.err.empty()) << "a usage error says what is wrong";
  }
  EXPECT_EQ(temporaries(out), std::vector<std::string>{});
  EXPECT_EQ(temporaries(kMalformed), std::vector<std::string>{});
  if (c.rc == 3) {
    // Nothing could be done: no attention dump (a failed analyze may still write its JSON
    // report listing the failures, complete).
    EXPECT_FALSE(fs::exists(out / "a.safetensors"));
  }
  if (fs::exists(out / "r.json")) {
    std::ifstream in(out / "r.json");
    const auto j = nlohmann::json::parse(in, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "results are complete JSON";
  }
  if (c.rc == 0 && fs::exists(out / "a.safetensors")) {
    EXPECT_NO_THROW(bentov::io::TensorStore::open_file(out / "a.safetensors"));
  }
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Cases, MalformedCli, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(MalformedCli, EveryCheckpointFolderHasACase) {
  std::set<std::string> named;
  for (const auto& c : load_cases()) {
    for (const auto& e : fs::directory_iterator(kMalformed / "checkpoints")) {
      const auto n = e.path().filename().string();
      if (c.command.find("{ck}/" + n + " ") != std::string::npos || c.command.ends_with("{ck}/" + n)) named.insert(n);
    }
  }
  for (const auto& e : fs::directory_iterator(kMalformed / "checkpoints")) {
    EXPECT_TRUE(named.count(e.path().filename().string())) << e.path();
  }
}

// Killed mid-write (Ctrl-C, kill): the temporary file of an unfinished output is removed by
// the signal handler the writers install, and the target never appears half-written.
void interrupted_writer_leaves_nothing(int sig, bool safetensors) {
  const fs::path dir = fs::temp_directory_path() / ("bentov_interrupt_" + std::to_string(::getpid()) + "_" +
                                                    std::to_string(sig) + (safetensors ? "_st" : "_txt"));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (safetensors) {
      bentov::io::SafetensorsWriter w(dir / "out.safetensors", {{"x", bentov::io::DType::kF32, {4}}});
      const float half[2] = {1, 2};
      w.write(std::as_bytes(std::span<const float>(half)));
      ::raise(sig);
    } else {
      bentov::io::write_file_atomic(dir / "out.json", [&](std::ostream& o) {
        o << "{\"partial\": ";
        o.flush();
        ::raise(sig);
      });
    }
    ::_exit(0);  // not reached: the signal's default action ends the process
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "the process still dies of the signal";
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{});
  fs::remove_all(dir);
}

TEST(Interrupt, SigintDuringSafetensorsDumpLeavesNoFile) { interrupted_writer_leaves_nothing(SIGINT, true); }
TEST(Interrupt, SigtermDuringSafetensorsDumpLeavesNoFile) { interrupted_writer_leaves_nothing(SIGTERM, true); }
TEST(Interrupt, SigintDuringJsonWriteLeavesNoFile) { interrupted_writer_leaves_nothing(SIGINT, false); }
TEST(Interrupt, SigtermDuringJsonWriteLeavesNoFile) { interrupted_writer_leaves_nothing(SIGTERM, false); }

}  // namespace
