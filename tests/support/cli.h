// Runs the bentov binary as a user would and captures exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace bentov::testing {

struct CliResult {
  int rc = -1;
  std::string out, err;
};

inline std::string slurp_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `args` is appended to the binary path as shell words (quote them yourself).
inline CliResult run_cli(const std::string& args) {
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path() / "bentov_cli_test";
  std::filesystem::create_directories(dir);
  const auto out = dir / ("out" + std::to_string(::getpid()) + "_" + std::to_string(counter));
  const auto err = dir / ("err" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const std::string cmd = std::string("'") + BENTOV_CLI_PATH + "' " + args + " >'" + out.string() +
                          "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp_file(out);
  r.err = slurp_file(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

inline std::string fixture(const std::string& name) {
  return std::string(BENTOV_TEST_DATA_DIR) + "/fixtures/" + name;
}

}  // namespace bentov::testing
