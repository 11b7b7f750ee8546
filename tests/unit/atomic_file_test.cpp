#include "bentov/io/atomic_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path scratch_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_atomic_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(AtomicFile, WritesAndReplaces) {
  auto dir = scratch_dir("writes");
  bentov::io::write_file_atomic(dir / "a.txt", std::string_view("first"));
  bentov::io::write_file_atomic(dir / "a.txt", std::string_view("second"));
  EXPECT_EQ(slurp(dir / "a.txt"), "second");
  // Only the target remains: no temporary siblings.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(AtomicFile, FailureLeavesOldContentAndNoTemporary) {
  auto dir = scratch_dir("failure");
  bentov::io::write_file_atomic(dir / "a.txt", std::string_view("kept"));
  EXPECT_THROW(bentov::io::write_file_atomic(dir / "a.txt",
                                             [](std::ostream& out) {
                                               out << "half";
                                               throw std::runtime_error("interrupted");
                                             }),
               std::runtime_error);
  EXPECT_EQ(slurp(dir / "a.txt"), "kept");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}
