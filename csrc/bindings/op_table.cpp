// _core._op_table(): the op tables (ops/unary.def, binary.def, reduce.def) as Python data, one
// dict per op. tests/op_registry.py iterates it (forward vs numpy_ref over every dtype,
// gradcheck, broadcasting, layouts, errors) and tools/make_stubs.py writes the stubs from it.
#include "bindings/convert.h"

namespace tl::bind {

namespace {

py::dict row(const char* family, const char* name, int arity, const char* dtypes, bool differentiable,
             const char* numpy_ref, const char* domain, bool method, const char* op = "none") {
  py::dict d;
  d["name"] = name;
  d["family"] = family;
  d["arity"] = arity;
  d["dtypes"] = dtypes;
  d["differentiable"] = differentiable;
  d["numpy_ref"] = numpy_ref;
  d["domain"] = domain;
  d["method"] = method ? py::object(py::str(name)) : py::object(py::none());
  d["operator"] = std::string(op) == "none" ? py::object(py::none()) : py::object(py::str(op));
  return d;
}

// grad / method columns as bools.
constexpr bool grad_NoGrad = false, grad_GradNone = true, grad_GradX = true, grad_GradOut = true, grad_Grad = true,
               grad_GradAB = true, grad_GradABOut = true, grad_GradXOut = true;
constexpr bool method_Method = true, method_Function = false;

}  // namespace

void bind_op_table(py::module_& m) {
  m.def("_op_table", [] {
    py::list out;
#define TL_UNARY(name, K, dtypes, grad, method, numpy_ref, domain) \
  out.append(row("unary", #name, 1, #dtypes, grad_##grad, numpy_ref, domain, method_##method));
#include "ops/unary.def"
#undef TL_UNARY
#define TL_BINARY(name, K, fn, dtypes, grad, op, numpy_ref, domain) \
  out.append(row("binary", #name, 2, #dtypes, grad_##grad, numpy_ref, domain, false, #op));
#include "ops/binary.def"
#undef TL_BINARY
#define TL_REDUCE(name, fn, kind, dtypes, grad, numpy_ref, domain, doc) \
  out.append(row("reduce", #name, 1, #dtypes, grad_##grad, numpy_ref, domain, true));
#include "ops/reduce.def"
#undef TL_REDUCE
    return out;
  }, "The op table: one dict per elementwise / reduction op (name, family, arity, dtypes, differentiable, "
     "numpy_ref, domain, method, operator: the Tensor dunder stem or None).");
}

}  // namespace tl::bind
