// pytorch_model.bin reading: the torch.save zip + restricted unpickler against the safetensors
// fixtures (bit for bit, and through the model's attention), every dtype and pickle protocol,
// and a folder of hostile files that must be refused without running anything. The .bin files
// are written by scripts/make_bin_fixtures.py (stdlib emulation of torch.save; see there).
#include "bentov/io/pytorch_bin.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bentov/error.h"
#include "bentov/io/safetensors.h"
#include "bentov/model/capture.h"
#include "bentov/model/model.h"
#include "support/cli.h"
#include "support/compare.h"
#include "support/fixture_tolerance.h"

namespace fs = std::filesystem;
using bentov::io::DType;
using bentov::io::PytorchBinFile;
using bentov::io::TensorStore;

namespace {

const fs::path kData(BENTOV_TEST_DATA_DIR);
const fs::path kBin = kData / "bin";

fs::path scratch(const std::string& name) {
  const auto dir =
      fs::temp_directory_path() / ("bentov_pytorch_bin_" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string error_of(const std::function<void()>& f, bentov::ErrorKind* kind = nullptr) {
  try {
    f();
  } catch (const bentov::Error& e) {
    if (kind) *kind = e.kind();
    return e.what();
  }
  return "(no error)";
}

// Same names, dtypes, shapes and bytes.
void expect_same_tensors(const TensorStore& got, const TensorStore& want) {
  ASSERT_EQ(got.names(), want.names());
  for (const auto& name : want.names()) {
    const auto* g = got.find(name);
    const auto* w = want.find(name);
    EXPECT_EQ(g->dtype, w->dtype) << name;
    EXPECT_EQ(g->shape, w->shape) << name;
    ASSERT_EQ(g->nbytes, w->nbytes) << name;
    EXPECT_EQ(std::memcmp(g->data, w->data, w->nbytes), 0) << name << ": bytes differ";
    // torch.save aligns storages to 64 bytes and the map is page-aligned: zero-copy in place.
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(g->data) % 64, 0u) << name;
    EXPECT_EQ(g->file.extension(), ".bin") << name;
  }
}

TEST(PytorchBin, SingleFileEqualsSafetensorsBitForBit) {
  const auto bin = TensorStore::open_folder(kBin / "gpt2-lmhead");
  const auto st = TensorStore::open_folder(kData / "fixtures" / "gpt2-lmhead");
  EXPECT_EQ(bin.size(), 40u);
  expect_same_tensors(bin, st);
}

TEST(PytorchBin, ShardedIndexEqualsSafetensorsBitForBit) {
  const auto bin = TensorStore::open_folder(kBin / "opt-preln-sharded");
  const auto st = TensorStore::open_folder(kData / "fixtures" / "opt-preln");
  EXPECT_EQ(bin.size(), 52u);
  expect_same_tensors(bin, st);
  EXPECT_EQ(bin.find("model.decoder.embed_tokens.weight")->dtype, DType::kF16);
}

// The same checkpoint as .bin and as safetensors gives identical attention, and both match
// transformers' reference (within the fixture's bound, support/fixture_tolerance.h).
void expect_same_attention(const fs::path& bin_folder, const std::string& fixture) {
  const auto from_bin = bentov::Model::load(bin_folder);
  const auto from_st = bentov::Model::load(kData / "fixtures" / fixture);
  const auto ref = TensorStore::open_file(kData / "fixtures" / fixture / "reference.safetensors");
  const double tolerance = bentov::testing::attention_tolerance(kData / "fixtures" / fixture);
  int checked = 0;
  for (int s = 0;; ++s) {
    const std::string seq = "seq" + std::to_string(s) + ".";
    const auto* ids_t = ref.find(seq + "input_ids");
    if (!ids_t) break;
    const auto ids64 = bentov::io::to_int64(*ids_t);
    const std::vector<std::int32_t> ids(ids64.begin(), ids64.end());
    bentov::MemoryCapture a, b;
    const auto ha = from_bin.forward(ids, &a);
    const auto hb = from_st.forward(ids, &b);
    EXPECT_EQ(ha, hb) << fixture << " sequence " << s << ": last hidden state differs";
    for (int l = 0; l < from_bin.config().n_layers; ++l) {
      EXPECT_EQ(a.layer(l), b.layer(l)) << fixture << " sequence " << s << " layer " << l;
      const auto* want = ref.find(seq + "blocks." + std::to_string(l) + ".attn.pattern");
      ASSERT_NE(want, nullptr);
      EXPECT_TRUE(bentov::testing::AllClose(a.layer(l), bentov::io::to_double(*want), tolerance))
          << fixture << " sequence " << s << " layer " << l << bentov::testing::blas_kernels_note();
    }
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(PytorchBin, ModelFromBinMatchesSafetensorsAndTransformers) {
  expect_same_attention(kBin / "gpt2-lmhead", "gpt2-lmhead");
  expect_same_attention(kBin / "opt-preln-sharded", "opt-preln");
}

// Every storage dtype, 0-d and empty tensors, two views of one storage, size-1 dims with odd
// strides, an nn.Parameter; written at protocols 2, 4 (framed, STACK_GLOBAL, MEMOIZE, inside
// an all-ZIP64 archive) and 5.
std::vector<double> values_of(const bentov::io::TensorInfo& t) {
  std::vector<double> out;
  const auto n = static_cast<std::size_t>(t.numel());
  auto read = [&](auto zero) {
    for (std::size_t i = 0; i < n; ++i) {
      decltype(zero) v;
      std::memcpy(&v, t.data + i * sizeof v, sizeof v);
      out.push_back(static_cast<double>(v));
    }
  };
  switch (t.dtype) {
    case DType::kF64:
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
      return bentov::io::to_double(t);
    case DType::kI64:
      read(std::int64_t{});
      break;
    case DType::kI32:
      read(std::int32_t{});
      break;
    case DType::kI16:
      read(std::int16_t{});
      break;
    case DType::kI8:
      read(std::int8_t{});
      break;
    case DType::kU8:
    case DType::kBool:
      read(std::uint8_t{});
      break;
  }
  return out;
}

TEST(PytorchBin, EveryDtypeProtocolAndZip64Layout) {
  std::ifstream in(kBin / "features" / "expected.json");
  const auto expected = nlohmann::json::parse(in);
  for (const char* file : {"dtypes_p2.bin", "dtypes_p4_zip64.bin", "dtypes_p5.bin"}) {
    SCOPED_TRACE(file);
    const PytorchBinFile bin(kBin / "features" / file);
    ASSERT_EQ(bin.tensors().size(), expected.size());
    for (const auto& [name, want] : expected.items()) {
      SCOPED_TRACE(name);
      const auto it = bin.tensors().find(name);
      ASSERT_NE(it, bin.tensors().end());
      const auto& t = it->second;
      EXPECT_STREQ(bentov::io::dtype_name(t.dtype), want["dtype"].get<std::string>().c_str());
      EXPECT_EQ(t.shape, want["shape"].get<std::vector<std::int64_t>>());
      std::vector<double> want_values;
      for (const auto& v : want["values"])
        want_values.push_back(v.is_boolean() ? v.get<bool>() : v.get<double>());
      EXPECT_EQ(values_of(t), want_values);
      EXPECT_EQ(t.nbytes, static_cast<std::size_t>(t.numel()) * bentov::io::dtype_size(t.dtype));
    }
    // The two views share one storage: the tail starts 6 floats after the head.
    EXPECT_EQ(bin.tensors().at("shared.tail").data, bin.tensors().at("shared.head").data + 24);
  }
}

// Each hostile or malformed file is refused with its one-line message, and the canary file
// that the payloads would create never appears.
TEST(PytorchBin, HostileFilesAreRefusedAndRunNothing) {
  std::ifstream in(kBin / "hostile" / "cases.json");
  const auto cases = nlohmann::json::parse(in);
  const fs::path canary = cases["canary"].get<std::string>();
  fs::remove(canary);
  ASSERT_GE(cases["cases"].size(), 30u);
  for (const auto& c : cases["cases"]) {
    const auto file = kBin / "hostile" / c["file"].get<std::string>();
    SCOPED_TRACE(file.string());
    bentov::ErrorKind kind{};
    const auto msg = error_of([&] { PytorchBinFile bin(file); }, &kind);
    EXPECT_NE(msg.find(c["error"].get<std::string>()), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find(file.string()), std::string::npos) << "the message names the file: " << msg;
    EXPECT_EQ(kind, c["kind"] == "unsupported" ? bentov::ErrorKind::kUnsupported
                                               : bentov::ErrorKind::kFormat);
    EXPECT_FALSE(fs::exists(canary)) << "a payload ran";
  }
}

TEST(PytorchBin, CliRefusesAMaliciousCheckpointInOneLine) {
  const auto dir = scratch("cli_malicious");
  fs::copy_file(kBin / "gpt2-lmhead" / "config.json", dir / "config.json");
  fs::copy_file(kBin / "hostile" / "pickled_posix_system.bin", dir / "pytorch_model.bin");
  fs::remove("/tmp/bentov_pickle_canary");
  const auto r = bentov::testing::run_cli("info " + dir.string());
  EXPECT_EQ(r.rc, 3) << r.err;
  // "bentov: error: ..." and "hint: ...": one line each.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  EXPECT_NE(r.err.find("refusing global 'posix.system'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists("/tmp/bentov_pickle_canary"));
}

TEST(PytorchBin, SafetensorsWinOverBinInOneFolder) {
  const auto dir = scratch("both");
  fs::copy_file(kData / "fixtures" / "opt-preln" / "model.safetensors", dir / "model.safetensors");
  fs::copy_file(kBin / "hostile" / "reduce_os_system.bin", dir / "pytorch_model.bin");
  const auto store = TensorStore::open_folder(dir);
  EXPECT_EQ(store.size(), 52u);
  EXPECT_EQ(store.find("model.decoder.embed_tokens.weight")->file.extension(), ".safetensors");
}

TEST(PytorchBin, BinIndexShardNamesAreValidatedLikeSafetensors) {
  const auto dir = scratch("escape");
  std::ofstream(dir / "pytorch_model.bin.index.json")
      << R"({"weight_map": {"w": "../pytorch_model.bin"}})";
  const auto msg = error_of([&] { TensorStore::open_folder(dir); });
  EXPECT_NE(msg.find("outside the model folder"), std::string::npos) << msg;

  // A shard that does not hold the tensor the index names.
  const auto dir2 = scratch("disagree");
  for (const char* f : {"pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"}) {
    fs::copy_file(kBin / "opt-preln-sharded" / f, dir2 / f);
  }
  std::ifstream idx_in(kBin / "opt-preln-sharded" / "pytorch_model.bin.index.json");
  auto idx = nlohmann::json::parse(idx_in);
  idx["weight_map"]["model.decoder.embed_tokens.weight"] = "pytorch_model-00002-of-00002.bin";
  std::ofstream(dir2 / "pytorch_model.bin.index.json") << idx.dump();
  const auto msg2 = error_of([&] { TensorStore::open_folder(dir2); });
  EXPECT_NE(msg2.find("which does not hold it"), std::string::npos) << msg2;
}

TEST(PytorchBin, EmptyFolderNamesEveryWeightFile) {
  const auto dir = scratch("empty");
  const auto msg = error_of([&] { TensorStore::open_folder(dir); });
  EXPECT_NE(msg.find("pytorch_model.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}

// The unpickler alone (the libFuzzer entry point): a minimal hand-written state dict.
TEST(PytorchBin, ParsePickleDirectly) {
  using namespace std::string_literals;
  // {'w': _rebuild_tensor_v2(persid(('storage', FloatStorage, '0', 'cpu', 6)), 2, (2, 2), (2, 1),
  // False, {})}
  const std::string pkl =
      "\x80\x02}X\x01\x00\x00\x00w"
      "ctorch._utils\n_rebuild_tensor_v2\n"
      "((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00"
      "0X\x03\x00\x00\x00"
      "cpuK\x06tQ"
      "K\x02K\x02K\x02\x86K\x02K\x01\x86\x89}tRs."s;
  const auto tensors = bentov::io::parse_pytorch_pickle(
      {reinterpret_cast<const std::byte*>(pkl.data()), pkl.size()});
  ASSERT_EQ(tensors.size(), 1u);
  EXPECT_EQ(tensors[0].name, "w");
  EXPECT_EQ(tensors[0].storage_key, "0");
  EXPECT_EQ(tensors[0].dtype, DType::kF32);
  EXPECT_EQ(tensors[0].storage_numel, 6u);
  EXPECT_EQ(tensors[0].offset, 2u);
  EXPECT_EQ(tensors[0].shape, (std::vector<std::int64_t>{2, 2}));

  // Every prefix of it is refused cleanly (truncation anywhere).
  for (std::size_t n = 0; n < pkl.size(); ++n) {
    const auto msg = error_of([&] {
      bentov::io::parse_pytorch_pickle({reinterpret_cast<const std::byte*>(pkl.data()), n});
    });
    EXPECT_NE(msg, "(no error)") << "prefix of " << n << " bytes";
  }
}

}  // namespace
