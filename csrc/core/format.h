// repr/str of tensors, formatted like NumPy 2's array repr/str (numpy/_core/arrayprint.py with
// the default print options), in C++.
//
//   repr: tensor([[1., 2.],          str: [[1. 2.]
//                 [3., 4.]])              [3. 4.]]
//
// Floats: NumPy's FloatingFormat in 'maxprec' mode: each value is its shortest round-trip
// digits, cut to `precision` (8) fractional digits with correct rounding; scientific notation
// when a non-zero |value| is >= 1e8 (1e6 for float32) or < 1e-4 or max/min > 1e3; columns aligned on the
// decimal point; nan/inf padded. Ints are right-aligned; bools print ' True'/'False'.
// Tensors with more than `threshold` (1000) elements show `edgeitems` (3) per edge around
// '...'; lines wrap at `linewidth` (75). repr adds `dtype=` when NumPy would (not for float64,
// int64 and bool), `shape=` for empty and summarised tensors, and `requires_grad=True`.
#pragma once
#include <string>
#include "core/tensor.h"

namespace tl {

// NumPy's print options of the same names and defaults (floatmode 'maxprec', sign '-').
struct PrintOptions {
  int precision = 8;        // fractional digits at most
  int64_t threshold = 1000; // more elements than this are summarised
  int64_t edgeitems = 3;    // items shown at each edge when summarised
  int64_t linewidth = 75;
  bool suppress = false;    // true: no scientific notation for small values
};

// The process-wide options (tl.set_printoptions); read and written under the GIL.
PrintOptions& print_options();

std::string tensor_repr(const Tensor& t, const PrintOptions& opts = print_options());
std::string tensor_str(const Tensor& t, const PrintOptions& opts = print_options());

}  // namespace tl
