// In-place writes into existing tensors: the one choke point every writer goes through, and the
// autograd rules of in-place ops (PyTorch's).
//
// Every public writer (op=, setitem, fill, take(out=), shuffle, optimizer steps, predict's out)
// calls begin_inplace_write right before it writes, after its own validation, so a rejected
// call changes nothing, not even the version. A new writer must do the same: the version counter
// it bumps is what lets backward refuse saved tensors that were changed (autograd/saved_tensor.h).
//
// Autograd rules, while grad mode is on:
// - a leaf that requires grad cannot be written in place (RuntimeError, as PyTorch);
// - any other target that requires grad, or that is written from a source that requires grad,
//   gets a new history: the op is computed out of place with full history, written into the
//   target's storage, and the result's grad_fn becomes the target's (a non-leaf with a rebased
//   history, as PyTorch's in-place ops);
// - a view is written as part of its root (PyTorch's CopySlices): the op runs on a copy of the
//   view's elements taken with the root's current history, the result is written into the
//   view, the root's new history is "old root outside the view, the result inside", and the
//   view's history becomes its elements of that (inplace_on_view). A view of a leaf that
//   requires grad raises, as the leaf itself does;
// - ops without a derivative (floor_divide, take(out=), shuffle, ...) raise when they would
//   have to be recorded.
// With grad mode off (tl.no_grad()) writes only bump the version.
#pragma once
#include <initializer_list>
#include "core/scalar.h"
#include "kernels/function_ref.h"
#include "core/tensor.h"

namespace tl {

// Refuses read-only storage and broadcast views (ValueError), then bumps t's version counter.
void begin_inplace_write(const Tensor& t, const char* op);

// The rules above for an in-place op on `self` reading `sources` (entries may be null or
// undefined). Call it before writing anything. Returns true when the op must be recorded (grad
// mode is on and self, self's root if it is a view, or a source requires grad); raises
// RuntimeError when that is not allowed. Differentiable callers then rebase self
// (inplace_rebase) or, for a view, call inplace_on_view.
bool inplace_needs_graph(const Tensor& self, std::initializer_list<const Tensor*> sources, const char* op,
                         bool differentiable);

// Makes `result` (computed out of place, with history, in self's shape and dtype) self's new
// value and history: writes it into self's storage (bumping the version) and hands its grad_fn to
// self. The result's graph must not have saved self's storage (clone inputs that alias it).
void inplace_rebase(const Tensor& self, const Tensor& result, const char* op);

// An in-place op on view v whose root takes part in autograd (inplace_needs_graph returned true
// for a view): `apply` performs the op in place on the tensor it is given, a fresh non-view copy
// of v's elements with history; its result is written into v as described above.
void inplace_on_view(const Tensor& v, const char* op, FunctionRef<void(const Tensor&)> apply);

// t.fill(value) / t.fill_(value): value cast to t's dtype; on a tensor with history, the new
// history sends a zero gradient to the old value (as PyTorch's fill_).
void fill_inplace(const Tensor& t, Scalar value);

}  // namespace tl
