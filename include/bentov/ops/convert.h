// Widening stored half-precision weights to float: F16C/AVX2 where the CPU has it (checked
// at run time), else the exact scalar conversion. Both are exact: every fp16 and bf16 value is
// a float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace bentov::ops {

void f16_to_f32(const std::uint16_t* src, float* dst, std::size_t count);
void bf16_to_f32(const std::uint16_t* src, float* dst, std::size_t count);

namespace ref {
float f16_to_f32(std::uint16_t h);
}  // namespace ref

// An uninitialized float buffer for `count` values, 2 MB aligned and backed by transparent
// huge pages when large (fewer page faults when widening hundreds of MB of weights).
std::shared_ptr<float[]> allocate_floats(std::size_t count);

// Tells the kernel that the whole pages inside [data, data + bytes) of a read-only file
// mapping will not be needed again (their widened copy is used instead), so they leave the
// resident set. Harmless if the pages are touched later: they are read from the file again.
void release_mapped_pages(const void* data, std::size_t bytes);

}  // namespace bentov::ops
