// Writes into existing tensors under NumPy's casting rules: ufunc out= and the in-place
// operators (same_kind), Python scalars assigned into a dtype (setitem, fill), and float values
// written into integer tensors.
#pragma once
#include "core/tensor.h"

namespace tl {

// TypeError (NumPy raises UFuncTypeError, a TypeError) unless `from` casts to `to` under
// 'same_kind': "Cannot cast ufunc 'add' output from dtype('int64') to dtype('uint8') ...".
void check_same_kind(DType from, DType to, const char* op);

// ufunc out=: `result`, computed out of place, written into `out` as NumPy does. out must be
// writable and not a broadcast view; its shape must be the broadcast of result's shape with its
// own (inputs broadcast to out, out never broadcasts); result's dtype must cast to out's under
// same_kind. Callers refuse out= under autograd before computing `result`.
void assign_out(const Tensor& out, const Tensor& result, const char* op);

// NumPy's rules for a Python scalar stored into an array of `dtype` (setitem, fill): a float
// into an integer dtype goes through Python's int(): NaN -> ValueError "cannot convert float NaN
// to integer", +-inf -> OverflowError "cannot convert float infinity to integer", otherwise
// truncated toward zero and range-checked like a Python int (OverflowError "Python integer -1
// out of bounds for uint8"). Bool takes the truth value. Returns the value to store.
Scalar assign_scalar(const Scalar& s, DType dtype, const char* op);

// Tensor values stored into an integer tensor (setitem, copy into): ValueError naming the op and
// both dtypes when a float value is NaN, infinite or outside the integer range. NumPy stores a
// filler there with a RuntimeWarning; tensorlet refuses to store a wrong number.
void check_int_assign(const Tensor& src, DType to, const char* op);

}  // namespace tl
