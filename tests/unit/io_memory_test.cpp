// The memory guard: figures in messages, the BENTOV_MEMORY_LIMIT override.
#include <gtest/gtest.h>

#include <cstdlib>

#include "bentov/error.h"
#include "bentov/io/memory.h"

TEST(Memory, FormatsBytes) {
  EXPECT_EQ(bentov::io::format_bytes(17), "17 bytes");
  EXPECT_EQ(bentov::io::format_bytes(3ull << 29), "1.5 GiB");
}

TEST(Memory, RefusesAboveTheLimitWithTheFigure) {
  ::setenv("BENTOV_MEMORY_LIMIT", "1G", 1);
  EXPECT_EQ(bentov::io::available_memory_bytes(), 1ull << 30);
  EXPECT_NO_THROW(bentov::io::check_memory(1ull << 29, "x", ""));
  try {
    bentov::io::check_memory(5ull << 30, "the attention buffers of 40000 tokens", "shorten the text");
    FAIL() << "no error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kInput);
    EXPECT_STREQ(e.what(), "the attention buffers of 40000 tokens needs 5.0 GiB of memory but only 1.0 GiB is available");
  }
  ::unsetenv("BENTOV_MEMORY_LIMIT");
  EXPECT_TRUE(bentov::io::available_memory_bytes().has_value());
}
