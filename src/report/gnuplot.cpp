#include "report/gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "bentov/error.h"
#include "bentov/io/atomic_file.h"

extern char** environ;

namespace bentov::report::detail {
namespace fs = std::filesystem;

namespace {

// Runs `gnuplot script` with stdin and stdout on /dev/null and stderr into a file; returns
// the exit status and what gnuplot said.
std::pair<int, std::string> run_gnuplot(const fs::path& script) {
  const char* env = std::getenv("BENTOV_GNUPLOT");
  const std::string exe = env && *env ? env : "gnuplot";
  const fs::path err_path = fs::path(script).concat(".stderr");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  std::string arg0 = exe, arg1 = script.string();
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, exe.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::error_code ec;
    fs::remove(err_path, ec);
    throw IoError("cannot run '" + exe + "' to draw the figure: " + std::strerror(rc),
                  std::string(kInstallHint));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      status = -1;
      break;
    }
  }
  std::string said;
  {
    std::ifstream in(err_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    said = ss.str();
  }
  std::error_code ec;
  fs::remove(err_path, ec);
  const int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  // posix_spawnp may report a missing executable only through the child's exit 127.
  if (code == 127 && said.empty()) {
    throw IoError("cannot run '" + exe + "' to draw the figure: not found",
                  std::string(kInstallHint));
  }
  return {code, said};
}

// The last non-empty line gnuplot printed (its error message).
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r^") != std::string::npos) last = line;
  }
  return last;
}

}  // namespace

void render_gnuplot(const fs::path& path,
                    const std::function<std::string(const fs::path& tmp)>& script_for) {
  io::write_file_atomic_via(path, [&](const fs::path& tmp) {
    const fs::path script = fs::path(tmp).concat(".gp");
    io::write_file_atomic(script, script_for(tmp));
    std::pair<int, std::string> result;
    try {
      result = run_gnuplot(script);
    } catch (...) {
      std::error_code ec;
      fs::remove(script, ec);
      throw;
    }
    std::error_code ec;
    fs::remove(script, ec);
    const auto& [code, said] = result;
    if (code != 0) {
      const std::string why = last_line(said);
      throw IoError("gnuplot failed to draw '" + path.string() + "'" +
                        (why.empty() ? std::string() : ": " + why),
                    std::string(kInstallHint));
    }
    if (!fs::exists(tmp, ec) || fs::file_size(tmp, ec) == 0) {
      throw IoError("gnuplot wrote nothing to '" + path.string() + "'",
                    std::string(kInstallHint));
    }
  });
}


}  // namespace bentov::report::detail
