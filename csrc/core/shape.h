// Shape math: broadcasting, contiguous strides, axis normalisation, overflow-checked sizes.
// Strides are in elements everywhere in the core; bytes only at the NumPy boundary.
#pragma once
#include <cstdint>
#include <vector>

namespace tl {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

// Product of dims; throws tl::MemoryError if it overflows int64, invalid_argument if a dim < 0.
int64_t checked_numel(const Shape& shape, const char* op = "shape");
Strides contiguous_strides(const Shape& shape);
// NumPy's broadcast; throws "[op] operands could not be broadcast together with shapes (a) (b)".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast");
// Maps axis in [-ndim, ndim) to [0, ndim); IndexError ("axis 3 is out of bounds for array of dimension 2").
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op = "axis");
// Normalises a list of axes, refusing repeats (ValueError "repeated axis").
std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t ndim, const char* op = "axis");
// True if (shape, strides) describes a C-contiguous layout (size-1 dims ignored).
bool is_contiguous(const Shape& shape, const Strides& strides);

}  // namespace tl
