#include "bentov/io/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <ostream>

#include "bentov/error.h"

namespace fs = std::filesystem;
using bentov::io::DType;

namespace {

const fs::path kMalformed = fs::path(BENTOV_TEST_DATA_DIR) / "malformed";

std::string load_error(const fs::path& p) {
  try {
    bentov::io::SafetensorsFile f(p);
  } catch (const bentov::Error& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
    EXPECT_FALSE(e.hint().empty()) << e.what();
    return e.what();
  }
  return "";
}

struct MalformedCase {
  const char* file;
  const char* message_part;
};

// gtest and CTest name a case by this instead of its bytes.
void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.file; }

class Malformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(Malformed, RejectedWithClearMessage) {
  const auto& c = GetParam();
  const auto msg = load_error(kMalformed / (std::string(c.file) + ".safetensors"));
  ASSERT_FALSE(msg.empty()) << c.file << " was accepted";
  EXPECT_NE(msg.find(c.message_part), std::string::npos) << c.file << ": " << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Safetensors, Malformed,
    ::testing::Values(MalformedCase{"truncated_length", "too short"},
                      MalformedCase{"header_length_lies", "only"},
                      MalformedCase{"header_length_huge", "limit"},
                      MalformedCase{"header_not_json", "not a JSON object"},
                      MalformedCase{"header_not_object", "not a JSON object"},
                      MalformedCase{"unknown_dtype", "unknown dtype 'F8_E9'"},
                      MalformedCase{"size_mismatch", "[2, 3] x F32 = 24 bytes but its data_offsets span 16"},
                      MalformedCase{"offsets_past_end", "past the end"},
                      MalformedCase{"offsets_reversed", "begin > end"},
                      MalformedCase{"overlap", "overlap"},
                      MalformedCase{"shape_overflow", "overflows"},
                      MalformedCase{"negative_dim", "negative dimension"},
                      MalformedCase{"missing_offsets", "data_offsets"}),
    [](const auto& info) { return std::string(info.param.file); });

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("bentov_st_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(Safetensors, WriteThenReadRoundTrip) {
  const auto dir = scratch("roundtrip");
  const std::vector<float> a = {1.0f, -2.5f, 3.25f, 0.0f, 1e-8f, 7.0f};
  const std::vector<std::int64_t> ids = {5, 7, 11};
  bentov::io::write_safetensors(dir / "t.safetensors",
                                {{{"a", DType::kF32, {2, 3}}, std::as_bytes(std::span(a))},
                                 {{"ids", DType::kI64, {3}}, std::as_bytes(std::span(ids))}},
                                {{"format", "pt"}});
  bentov::io::SafetensorsFile f(dir / "t.safetensors");
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(bentov::io::to_float(f.tensors().at("a")), a);
  EXPECT_EQ(bentov::io::to_int64(f.tensors().at("ids")), ids);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.tensors().at("a").data) % 8, 0u) << "8-byte aligned data";
}

TEST(Safetensors, AbandonedWriterLeavesNothing) {
  const auto dir = scratch("abandoned");
  {
    bentov::io::SafetensorsWriter w(dir / "t.safetensors", {{"a", DType::kF32, {4}}});
    const float half[2] = {1, 2};
    w.write(std::as_bytes(std::span(half)));
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Safetensors, HalfAndBfloat16Widening) {
  EXPECT_EQ(bentov::io::half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(bentov::io::half_to_float(0xc000), -2.0f);
  EXPECT_EQ(bentov::io::half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(bentov::io::half_to_float(0x0001), 5.9604644775390625e-08f);  // smallest subnormal
  EXPECT_EQ(bentov::io::half_to_float(0x03ff), 6.097555160522461e-05f);  // largest subnormal
  EXPECT_TRUE(std::isinf(bentov::io::half_to_float(0x7c00)));
  EXPECT_EQ(bentov::io::bf16_to_float(0x3f80), 1.0f);
  EXPECT_EQ(bentov::io::bf16_to_float(0xc040), -3.0f);
}

void write_index(const fs::path& dir, const std::string& body) {
  std::ofstream(dir / "model.safetensors.index.json") << body;
}

std::string folder_error(const fs::path& dir) {
  try {
    bentov::io::TensorStore::open_folder(dir);
  } catch (const bentov::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, ShardIndexRejectsPathsOutsideFolder) {
  const auto dir = scratch("traversal");
  for (const char* shard : {"../evil.safetensors", "/etc/passwd", "a/../../x.safetensors"}) {
    write_index(dir, std::string(R"({"weight_map": {"w": ")") + shard + R"("}})");
    EXPECT_NE(folder_error(dir).find("outside the model folder"), std::string::npos) << shard;
  }
}

TEST(Safetensors, ShardIndexRejectsDuplicatesAndMismatches) {
  const auto dir = scratch("dupes");
  const std::vector<float> v = {1, 2};
  for (const char* f : {"s1.safetensors", "s2.safetensors"}) {
    bentov::io::write_safetensors(dir / f, {{{"w", DType::kF32, {2}}, std::as_bytes(std::span(v))}});
  }
  write_index(dir, R"({"weight_map": {"w": "s1.safetensors", "x": "s2.safetensors"}})");
  EXPECT_NE(folder_error(dir).find("more than one shard"), std::string::npos);
  write_index(dir, R"({"weight_map": {"w": "s1.safetensors", "missing": "s1.safetensors"}})");
  EXPECT_NE(folder_error(dir).find("does not hold it"), std::string::npos);
  write_index(dir, R"({"weight_map": [1, 2]})");
  EXPECT_NE(folder_error(dir).find("weight_map"), std::string::npos);
  write_index(dir, R"({"weight_map": {"w": )");
  EXPECT_NE(folder_error(dir).find("not valid JSON"), std::string::npos);
}

TEST(Safetensors, MissingWeightsNamed) {
  const auto dir = scratch("empty");
  EXPECT_NE(folder_error(dir).find("no model.safetensors"), std::string::npos);
}

}  // namespace
