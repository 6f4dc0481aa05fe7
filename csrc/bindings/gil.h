// Kernels release the GIL when the work is large enough to be worth the handoff.
#pragma once
#include <pybind11/pybind11.h>
#include "core/tensor.h"
#include "kernels/parallel.h"

namespace tl::bind {

template <class F>
auto without_gil_if(bool large, F&& f) {
  if (large) {
    pybind11::gil_scoped_release release;
    return f();
  }
  return f();
}

inline bool is_large(int64_t elements) { return elements >= kParallelElementThreshold; }

// f() without the GIL when t is large.
template <class F>
auto without_gil_for(const Tensor& t, F&& f) {
  return without_gil_if(is_large(t.numel()), std::forward<F>(f));
}

}  // namespace tl::bind
