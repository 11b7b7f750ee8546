// Starts tests/support/hf_hub_server.py (a local imitation of the Hugging Face Hub) for one
// test and stops it afterwards, and isolates the HF_* environment of a test. The server exits by itself when our end of its stdin pipe
// closes, so a crashed test leaves nothing running.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

namespace bentov::testing {

class HubServer {
 public:
  HubServer() {
    const std::filesystem::path tests = std::filesystem::path(BENTOV_TEST_DATA_DIR).parent_path();
    const std::string script = (tests / "support" / "hf_hub_server.py").string();
    const std::string root = tests.parent_path().string();
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], STDIN_FILENO);
      ::dup2(out[1], STDOUT_FILENO);
      ::close(in[0]);
      ::close(in[1]);
      ::close(out[0]);
      ::close(out[1]);
      ::execlp("python3", "python3", script.c_str(), "--root", root.c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_fd_ = in[1];
    ::fcntl(stdin_fd_, F_SETFD, FD_CLOEXEC);  // children (the bentov CLI) must not hold it
    if (std::FILE* f = ::fdopen(out[0], "r")) {
      char line[64] = {0};
      if (std::fgets(line, sizeof line, f)) {
        int port = 0;
        if (std::sscanf(line, "PORT %d", &port) == 1) port_ = port;
      }
      std::fclose(f);
    } else {
      ::close(out[0]);
    }
  }

  ~HubServer() { stop(); }
  HubServer(const HubServer&) = delete;
  HubServer& operator=(const HubServer&) = delete;

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void stop() {
    if (stdin_fd_ >= 0) {
      ::close(stdin_fd_);
      stdin_fd_ = -1;
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int port_ = 0;
};

// Clears the Hub's environment variables for one test and restores them afterwards.
class HubEnv {
 public:
  HubEnv() {
    for (const char* v : kVars) {
      if (const char* s = std::getenv(v)) saved_[v] = s;
      ::unsetenv(v);
    }
  }
  ~HubEnv() {
    for (const char* v : kVars) {
      ::unsetenv(v);
      if (auto it = saved_.find(v); it != saved_.end()) ::setenv(v, it->second.c_str(), 1);
    }
  }
  HubEnv(const HubEnv&) = delete;
  HubEnv& operator=(const HubEnv&) = delete;
  void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }
  void unset(const char* name) { ::unsetenv(name); }

 private:
  static constexpr const char* kVars[] = {"HF_ENDPOINT", "HF_HUB_CACHE", "HF_HOME", "HF_TOKEN",
                                          "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"};
  std::map<std::string, std::string> saved_;
};

}  // namespace bentov::testing
