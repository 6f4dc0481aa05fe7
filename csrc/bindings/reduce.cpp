// Reductions as module functions (tl.sum(a, axis=None, ...)) and Tensor methods (t.sum(...)).
// axis is None, an int or a tuple/list of ints; keepdims (and ddof) are keyword-only.
#include <pybind11/stl.h>
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "ops/binary.h"
#include "kernels/reduce.h"
#include "ops/reduce.h"

namespace tl::bind {

namespace {

AxisSpec to_axis(py::handle axis) {
  if (axis.is_none()) return AxisSpec::none();
  if (py::isinstance<py::tuple>(axis) || py::isinstance<py::list>(axis)) {
    std::vector<int64_t> v;
    for (py::handle h : axis) v.push_back(h.cast<int64_t>());
    return AxisSpec::of(v);
  }
  return AxisSpec::of({axis.cast<int64_t>()});
}


// var/std dtype=: the input is cast first, then reduced as that dtype.
Tensor with_dtype(const Tensor& t, py::handle dtype) {
  std::optional<DType> d = parse_optional_dtype(dtype);
  return d ? astype(t, *d) : t;
}


using Reduction = Tensor (*)(const Tensor&, const AxisSpec&, bool);
using DTypeReduction = Tensor (*)(const Tensor&, const AxisSpec&, bool, DType);

// name(a, axis=None, dtype=None, *, keepdims=False) and the method: without dtype NumPy's
// default result dtype, with it accumulation and result in that dtype (FD).
template <Reduction F, DTypeReduction FD>
void bind_dtype_reduction(py::module_& m, py::class_<Tensor>& cls, const char* name, const char* doc) {
  auto call = [](const Tensor& t, py::handle axis, py::handle dtype, bool keepdims) {
    std::optional<DType> d = parse_optional_dtype(dtype);
    AxisSpec a = to_axis(axis);
    return without_gil_for(t, [&] { return d ? FD(t, a, keepdims, *d) : F(t, a, keepdims); });
  };
  m.def(name, [call](py::handle x, py::handle axis, py::handle dtype, bool keepdims) {
          return call(tensor_arg(x), axis, dtype, keepdims);
        }, py::arg("a"), py::arg("axis") = py::none(), py::arg("dtype") = py::none(), py::kw_only(),
        py::arg("keepdims") = false, doc);
  cls.def(name, call, py::arg("axis") = py::none(), py::arg("dtype") = py::none(), py::kw_only(),
          py::arg("keepdims") = false, doc);
}

// Binds name(a, axis=None, *, keepdims=False) and the method.
template <Reduction F>
void bind_reduction(py::module_& m, py::class_<Tensor>& cls, const char* name, const char* doc) {
  m.def(name, [](py::handle x, py::handle axis, bool keepdims) {
          Tensor t = tensor_arg(x);
          AxisSpec a = to_axis(axis);
          return without_gil_for(t, [&] { return F(t, a, keepdims); });
        }, py::arg("a"), py::arg("axis") = py::none(), py::kw_only(), py::arg("keepdims") = false, doc);
  cls.def(name, [](const Tensor& t, py::handle axis, bool keepdims) {
            AxisSpec a = to_axis(axis);
            return without_gil_for(t, [&] { return F(t, a, keepdims); });
          }, py::arg("axis") = py::none(), py::kw_only(), py::arg("keepdims") = false, doc);
}

using Moment = Tensor (*)(const Tensor&, const AxisSpec&, int64_t, bool);

template <Moment F>
void bind_moment(py::module_& m, py::class_<Tensor>& cls, const char* name, const char* doc) {
  m.def(name, [](py::handle x, py::handle axis, py::handle dtype, int64_t ddof, bool keepdims) {
          Tensor t = with_dtype(tensor_arg(x), dtype);
          AxisSpec a = to_axis(axis);
          return without_gil_for(t, [&] { return F(t, a, ddof, keepdims); });
        }, py::arg("a"), py::arg("axis") = py::none(), py::arg("dtype") = py::none(), py::kw_only(),
        py::arg("ddof") = 0, py::arg("keepdims") = false, doc);
  cls.def(name, [](const Tensor& self, py::handle axis, py::handle dtype, int64_t ddof, bool keepdims) {
            Tensor t = with_dtype(self, dtype);
            AxisSpec a = to_axis(axis);
            return without_gil_for(t, [&] { return F(t, a, ddof, keepdims); });
          }, py::arg("axis") = py::none(), py::arg("dtype") = py::none(), py::kw_only(), py::arg("ddof") = 0,
          py::arg("keepdims") = false, doc);
}

using ArgReduction = Tensor (*)(const Tensor&, bool, int64_t, bool);

template <ArgReduction F>
void bind_arg(py::module_& m, py::class_<Tensor>& cls, const char* name, const char* doc) {
  auto call = [](const Tensor& t, py::handle axis, bool keepdims) {
    const bool has = !axis.is_none();
    const int64_t ax = has ? axis.cast<int64_t>() : 0;
    return without_gil_for(t, [&] { return F(t, has, ax, keepdims); });
  };
  m.def(name, [call](py::handle x, py::handle axis, bool keepdims) { return call(tensor_arg(x), axis, keepdims); },
        py::arg("a"), py::arg("axis") = py::none(), py::kw_only(), py::arg("keepdims") = false, doc);
  cls.def(name, call, py::arg("axis") = py::none(), py::kw_only(), py::arg("keepdims") = false, doc);
}

}  // namespace

void bind_reduce(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  // One module function and method per line of the table ops/reduce.def.
#define TL_REDUCE_BIND_DTyped(fn) bind_dtype_reduction<&tl::fn, &tl::fn>
#define TL_REDUCE_BIND_Plain(fn) bind_reduction<&tl::fn>
#define TL_REDUCE_BIND_Moment(fn) bind_moment<&tl::fn>
#define TL_REDUCE_BIND_Arg(fn) bind_arg<&tl::fn>
#define TL_REDUCE(name, fn, kind, dtypes, grad, numpy_ref, domain, doc) TL_REDUCE_BIND_##kind(fn)(m, cls, #name, doc);
#include "ops/reduce.def"
#undef TL_REDUCE
  m.attr("amax") = m.attr("max");
  m.attr("amin") = m.attr("min");

  // For tests: the plain one-output-at-a-time reduction that the fast paths are checked against.
  m.def("_reduce_reference", [](const Tensor& x, const std::string& op, py::handle axis, bool keepdims) {
          static const std::pair<const char*, kernels::ReduceOp> ops[] = {
              {"sum", kernels::ReduceOp::Sum}, {"prod", kernels::ReduceOp::Prod}, {"mean", kernels::ReduceOp::Mean},
              {"max", kernels::ReduceOp::Max}, {"min", kernels::ReduceOp::Min}, {"all", kernels::ReduceOp::All},
              {"any", kernels::ReduceOp::Any}};
          for (const auto& [name, rop] : ops) {
            if (op != name) continue;
            std::vector<bool> mask = reduced_mask(to_axis(axis), x.ndim(), name);
            Tensor out = Tensor::empty(reduced_shape(x.shape(), mask, true), kernels::reduce_result_dtype(rop, x.dtype()));
            kernels::reduce_reference(rop, out, x, mask);
            Shape shape = reduced_shape(x.shape(), mask, keepdims);
            return out.view_with(shape, contiguous_strides(shape), out.offset());
          }
          throw std::invalid_argument("[_reduce_reference] unknown op " + op);
        }, py::arg("x"), py::arg("op"), py::arg("axis") = py::none(), py::arg("keepdims") = false);
}

}  // namespace tl::bind
