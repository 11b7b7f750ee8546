// Fuzzes config.json resolution: registry lookup (model_type / architectures) and each
// family's resolver. A config that resolves must be internally consistent and bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "bentov/error.h"
#include "bentov/model/registry.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The real entry point, through the file (size bound, parse errors, non-objects).
  bentov::fuzz::write_file(bentov::fuzz::scratch_dir() / "config.json",
                           {reinterpret_cast<const char*>(data), size});
  try {
    const bentov::ModelConfig c = bentov::load_model_config(bentov::fuzz::scratch_dir());
    if (c.n_layers <= 0 || c.n_heads <= 0 || c.hidden_size <= 0 || c.head_dim <= 0 ||
        c.head_dim * c.n_heads != c.hidden_size || c.vocab_size <= 0 || c.max_positions <= 0 ||
        c.intermediate_size <= 0 || c.rotary_dims < 0 || c.rotary_dims > c.head_dim ||
        c.word_embed_dim <= 0) {
      std::abort();  // resolved but inconsistent
    }
  } catch (const bentov::Error&) {
  }
  // Every registered family's resolver on the same JSON, whatever its model_type says.
  const auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return 0;
  for (const auto& entry : bentov::architecture_registry()) {
    try {
      (void)entry.resolve_config(j);
    } catch (const bentov::Error&) {
    }
  }
  return 0;
}
