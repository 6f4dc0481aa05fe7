// Fill kernels behind the creation functions: pure compute over contiguous buffers.
#pragma once
#include <cstdint>

namespace tl::kernels {

// NumPy's arange fill: out[0] = first, out[1] = second, out[i] = first + i * (second - first)
// computed in T (so float32 ranges round exactly like NumPy's). n >= 0.
template <class T>
void arange_fill(T* out, int64_t n, T first, T second);

// NumPy's linspace in float64: out[i] = i * step + start (or (i / div) * delta + start when the
// step underflows to 0), last element = stop when `endpoint` and n > 1.
void linspace_fill(double* out, int64_t n, double start, double stop, bool endpoint);

}  // namespace tl::kernels
