// Elementwise ops from Python: module functions (tl.add, tl.exp, tl.where, tl.clip, ...), the
// arithmetic / comparison / bitwise operators of Tensor with their reflected and in-place
// forms, and the elementwise Tensor methods (astype, abs, clip, exp, ...).
//
// Operands: a Tensor; a Python bool / int / float, which is weak (NumPy 2: it takes the other
// operand's dtype within its kind; an int that does not fit raises OverflowError, except in
// comparisons, which compare exactly); or anything NumPy can turn into an array. Operators
// return NotImplemented for other objects, so Python can try the reflected operation.
//
// Tensor keeps identity hashing (like torch.Tensor) although __eq__ is elementwise.
#include <pybind11/stl.h>
#include "bindings/binary_args.h"
#include "bindings/gil.h"
#include "autograd/grad_mode.h"
#include "ops/assign.h"
#include "ops/inplace.h"
#include "ops/ops.h"

namespace tl::bind {

namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

// What an operator accepts as its other operand (else NotImplemented).
bool acceptable(py::handle h) {
  if (is_tensor(h) || is_weak_scalar(h) || py::isinstance<py::array>(h) || py::isinstance<py::list>(h) ||
      py::isinstance<py::tuple>(h))
    return true;
  static py::handle np_generic = py::object(py::module_::import("numpy").attr("generic")).release();
  return PyObject_IsInstance(h.ptr(), np_generic.ptr()) == 1;
}

inline Tensor run_binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  return without_gil_if(is_large(std::max(a.numel(), b.numel())), [&] { return binary_op(op, a, b); });
}

// ufunc out=: None, a Tensor, or a 1-tuple holding one (NumPy's two spellings). The result is
// computed out of place and written through assign_out (same_kind casting, out's shape, not
// read-only); returns out itself. Refused under autograd, as PyTorch's out= variants.
template <class Compute>
py::object with_out(py::handle out, const char* op, std::initializer_list<const Tensor*> inputs, Compute&& compute) {
  if (out.is_none()) return py::cast(compute());
  py::handle o = out;
  if (PyTuple_Check(out.ptr())) {
    TL_CHECK(PyTuple_GET_SIZE(out.ptr()) == 1, op, "The 'out' tuple must have exactly one entry");
    o = PyTuple_GET_ITEM(out.ptr(), 0);
  }
  TL_CHECK_TYPE(is_tensor(o), op, "return arrays must be of ArrayType: out= takes a tensorlet Tensor, got ",
                std::string(py::str(py::type::of(o).attr("__name__"))));
  const Tensor& t = o.cast<const Tensor&>();
  if (GradMode::is_enabled()) {
    bool needs = t.requires_grad();
    for (const Tensor* in : inputs) needs = needs || in->requires_grad();
    if (needs)
      throw RuntimeError(str_cat("[", op, "] out= is not differentiable: an input or out requires grad; call it "
                                 "under tl.no_grad() or without out="));
  }
  inplace_needs_graph(t, inputs, op, false);  // out may be a view of a tensor with history
  Tensor r;
  {
    NoGradGuard no_grad;
    r = compute();  // releases the GIL itself for large work
  }
  without_gil_if(is_large(t.numel()), [&] { assign_out(t, r, op); });
  return py::reinterpret_borrow<py::object>(o);
}

template <BinaryOp OP>
py::object binary_fn(py::handle a, py::handle b, py::handle out) {
  auto [ta, tb] = binary_operands(a, b, OP);
  return with_out(out, binary_op_name(OP), {&ta, &tb}, [&] { return run_binary(OP, ta, tb); });
}

using UnaryFn = Tensor (*)(const Tensor&);

template <UnaryFn F>
Tensor unary_method(const Tensor& t) {
  return without_gil_if(is_large(t.numel()), [&] { return F(t); });
}

// self OP other (Reflected: other OP self).
template <BinaryOp OP, bool Reflected>
py::object binary_dunder(const Tensor& self, py::handle other) {
  if constexpr (OP == BinaryOp::Pow && !Reflected) {
    // ndarray.__pow__'s fast path: a float array ** 0.5 is sqrt (so (-0.0) ** 0.5 is -0.0 and
    // (-inf) ** 0.5 is nan, as in NumPy); the other exponents give pow's results anyway.
    if (PyFloat_CheckExact(other.ptr()) && PyFloat_AS_DOUBLE(other.ptr()) == 0.5 && is_inexact(self.dtype()))
      return py::cast(unary_method<sqrt>(self));
  }
  if (is_tensor(other)) {  // the hot path: tensor op tensor
    const Tensor& o = other.cast<const Tensor&>();
    return py::cast(Reflected ? run_binary(OP, o, self) : run_binary(OP, self, o));
  }
  if (is_weak_scalar(other)) {  // tensor op Python number (weak)
    Tensor o = weak(other, self, OP);
    return py::cast(Reflected ? run_binary(OP, o, self) : run_binary(OP, self, o));
  }
  if (!acceptable(other)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  Tensor o = to_tensor(other, std::nullopt, false);
  return py::cast(Reflected ? run_binary(OP, o, self) : run_binary(OP, self, o));
}

template <BinaryOp OP>
py::object inplace_dunder(py::object self, py::handle other) {
  if (!acceptable(other)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  const Tensor& a = self.cast<const Tensor&>();
  Tensor b = other_operand(other, a, OP);
  without_gil_if(is_large(a.numel()), [&] { binary_inplace(OP, a, b); });
  return self;
}

// The table's operator column: __stem__, and for all but comparisons (which Python reflects
// itself: a < b is b > a) __rstem__ and __istem__.
template <BinaryOp OP>
void bind_operator(py::class_<Tensor>& cls, const std::string& stem) {
  if (stem == "none") return;
  cls.def(("__" + stem + "__").c_str(), &binary_dunder<OP, false>, py::is_operator());
  if (kernels::is_comparison(OP)) return;
  cls.def(("__r" + stem + "__").c_str(), &binary_dunder<OP, true>, py::is_operator());
  cls.def(("__i" + stem + "__").c_str(), &inplace_dunder<OP>, py::is_operator());
}

template <UnaryFn F>
py::object unary_fn(py::handle x, py::handle out, const char* name) {
  Tensor t = as_tensor(x);
  return with_out(out, name, {&t}, [&] { return without_gil_if(is_large(t.numel()), [&] { return F(t); }); });
}

Tensor astype_copy(const Tensor& t, py::handle dtype, bool copy) {
  const DType d = parse_dtype(dtype);
  if (is_complex(t.dtype()) && !is_complex(d) && d != DType::Bool) {
    // NumPy's rule and warning: the real part is kept. (The Array API standard leaves this cast
    // unpermitted; portable code takes real(x) or imag(x) first.)
    py::object w = py::module_::import("numpy").attr("exceptions").attr("ComplexWarning");
    if (PyErr_WarnEx(w.ptr(), "Casting complex values to real discards the imaginary part", 1) < 0)
      throw py::error_already_set();
  }
  if (d != t.dtype()) return astype(t, d);
  if (!copy) return t;
  return t.requires_grad() ? add(t, Tensor::zeros({}, d)) : tl::copy(t);
}

// tl.where(cond, x, y) and tl.clip(a, lo, hi): Python scalars among x / y / lo / hi are weak
// next to the tensor operand.
Tensor where_fn(py::handle cond, py::handle x, py::handle y) {
  Tensor c = as_tensor(cond);
  auto [tx, ty] = binary_operands(x, y);
  return without_gil_if(is_large(std::max({c.numel(), tx.numel(), ty.numel()})), [&] { return where(c, tx, ty); });
}

Tensor clip_impl(const Tensor& t, py::handle lo, py::handle hi) {
  Tensor tlo = lo.is_none() ? Tensor() : other_operand(lo, t);
  Tensor thi = hi.is_none() ? Tensor() : other_operand(hi, t);
  return without_gil_if(is_large(t.numel()), [&] { return clip(t, tlo, thi); });
}

py::handle pick(py::handle positional, py::handle keyword, const char* name) {
  if (!keyword.is_none()) {
    TL_CHECK_TYPE(positional.is_none(), "clip", "passed both a_", name, " and ", name);
    return keyword;
  }
  return positional;
}

}  // namespace

void bind_elementwise(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));

  // Module functions, one per line of the op tables (ops/binary.def, ops/unary.def).
#define TL_BINARY(name, K, ...)                                                                       \
  m.def(#name, &binary_fn<BinaryOp::K>, py::arg("x1"), py::arg("x2"), py::kw_only(), \
        py::arg("out") = py::none());
#include "ops/binary.def"
#undef TL_BINARY
#define TL_UNARY(name, ...)                                                                           \
  m.def(#name, [](py::handle x, py::handle out) { return unary_fn<&tl::name>(x, out, #name); }, py::arg("x"), \
        py::kw_only(), py::arg("out") = py::none());
#include "ops/unary.def"
#undef TL_UNARY
  // NumPy's other names for the same ufuncs.
  for (auto [alias, name] : {std::pair{"true_divide", "divide"}, {"mod", "remainder"}, {"pow", "power"},
                             {"absolute", "abs"}, {"bitwise_not", "invert"}})
    m.attr(alias) = m.attr(name);

  m.def("where", &where_fn, py::arg("condition"), py::arg("x"), py::arg("y"));
  m.def(
      "clip",
      [](py::handle a, py::handle a_min, py::handle a_max, py::handle min, py::handle max) {
        return clip_impl(as_tensor(a), pick(a_min, min, "min"), pick(a_max, max, "max"));
      },
      py::arg("a"), py::arg("a_min") = py::none(), py::arg("a_max") = py::none(), py::kw_only(),
      py::arg("min") = py::none(), py::arg("max") = py::none());
  m.def("astype", [](py::handle x, py::handle dtype, bool copy) { return astype_copy(as_tensor(x), dtype, copy); },
        py::arg("x"), py::arg("dtype"), py::kw_only(), py::arg("copy") = true);

  // Operators: the table's operator column.
#define TL_BINARY(name, K, fn, dtypes, grad, op, ...) bind_operator<BinaryOp::K>(cls, #op);
#include "ops/binary.def"
#undef TL_BINARY
  cls.attr("__hash__") = py::module_::import("builtins").attr("object").attr("__hash__");
  cls.def("__neg__", &unary_method<negative>);
  cls.def("__pos__", &unary_method<positive>);
  cls.def("__abs__", &unary_method<abs>);
  cls.def("__invert__", &unary_method<invert>);

  // Methods.
  cls.def("astype", [](py::object self, py::handle dtype, bool copy) -> py::object {
            const Tensor& t = self.cast<const Tensor&>();
            Tensor out = astype_copy(t, dtype, copy);
            return out.impl() == t.impl() ? self : py::cast(std::move(out));
          }, py::arg("dtype"), py::arg("copy") = true,
          "A copy cast to dtype (the tensor itself when copy=False and the dtype already matches).");
  cls.def("clip", [](const Tensor& t, py::handle a_min, py::handle a_max, py::handle min, py::handle max) {
            return clip_impl(t, pick(a_min, min, "min"), pick(a_max, max, "max"));
          }, py::arg("a_min") = py::none(), py::arg("a_max") = py::none(), py::kw_only(),
          py::arg("min") = py::none(), py::arg("max") = py::none());
  // Tensor methods: the table lines marked Method.
#define TL_UNARY_METHOD_Method(name) cls.def(#name, &unary_method<&tl::name>);
#define TL_UNARY_METHOD_Function(name)
#define TL_UNARY(name, K, dtypes, grad, method, ...) TL_UNARY_METHOD_##method(name)
#include "ops/unary.def"
#undef TL_UNARY
}

}  // namespace tl::bind
