// Fuzzes the safetensors reader: the input is a whole .safetensors file (8-byte header length,
// JSON header, data). A file that loads must have every tensor readable inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "bentov/error.h"
#include "bentov/io/safetensors.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = bentov::fuzz::scratch_dir() / "model.safetensors";
  bentov::fuzz::write_file(file, {reinterpret_cast<const char*>(data), size});
  try {
    const auto store = bentov::io::TensorStore::open_folder(bentov::fuzz::scratch_dir());
    for (const auto& name : store.names()) {
      const auto* t = store.find(name);
      if (t == nullptr) std::abort();
      // Every byte of every tensor lies inside the file: touch the first and the last.
      if (t->nbytes > 0) {
        volatile std::byte first = t->data[0];
        volatile std::byte last = t->data[t->nbytes - 1];
        (void)first;
        (void)last;
      }
      if (t->nbytes <= (1u << 20)) {
        try {
          (void)bentov::io::to_float(*t);
        } catch (const bentov::Error&) {
        }
      }
    }
  } catch (const bentov::Error&) {
  }
  return 0;
}
