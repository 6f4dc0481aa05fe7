// tensorlet._core._capture: recording a step into a Plan and replaying it (capture/recorder.h);
// python/tensorlet/capture.py is the public face (CapturedFunction).
#include <algorithm>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include "bindings/convert.h"
#include "capture/recorder.h"
#include "capture/rewrite.h"
#include "capture/segments.h"
#include "core/tensor.h"

namespace py = pybind11;

namespace tl::bind {
namespace {

// CapturedFunction's signature walk, in C++ because it runs on every call of a step: tensors
// (tl.Tensor, NumPy arrays) go to `tensors` and their kind, dtype, requires_grad and shape to
// `meta`; lists, tuples and dicts add their type and length (dicts their keys) and other values
// add (type, value) to `others` (they are frozen into a capture, so they select the plan).
struct Signature {
  std::string meta;
  py::list tensors, others;
  bool requires_grad = false;

  template <class T>
  void put(T v) {
    meta.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void walk(py::handle obj) {
    if (py::isinstance<Tensor>(obj)) {
      const Tensor& t = obj.cast<const Tensor&>();
      tensors.append(obj);
      put('T');
      put(static_cast<int>(t.dtype()));
      put(t.requires_grad());
      requires_grad = requires_grad || t.requires_grad();
      put(t.ndim());
      for (int64_t d : t.shape()) put(d);
    } else if (py::isinstance<py::array>(obj)) {
      auto a = py::reinterpret_borrow<py::array>(obj);
      tensors.append(obj);
      put('N');
      put(a.dtype().num());
      put(static_cast<int64_t>(a.ndim()));
      for (py::ssize_t d = 0; d < a.ndim(); ++d) put(static_cast<int64_t>(a.shape(d)));
    } else if (py::isinstance<py::tuple>(obj) || py::isinstance<py::list>(obj)) {
      put(py::isinstance<py::tuple>(obj) ? 't' : 'l');
      others.append(py::type::handle_of(obj));
      auto seq = py::reinterpret_borrow<py::sequence>(obj);
      put(static_cast<int64_t>(seq.size()));
      for (py::handle o : seq) walk(o);
    } else if (py::isinstance<py::dict>(obj)) {
      auto d = py::reinterpret_borrow<py::dict>(obj);
      put('d');
      py::list keys;
      for (auto kv : d) keys.append(kv.first);
      others.append(py::tuple(keys));
      for (auto kv : d) walk(kv.second);
    } else {
      put('o');
      (void)py::hash(obj);  // other arguments must be hashable
      others.append(py::make_tuple(py::type::handle_of(obj), obj));
    }
  }
};

// The new values for a plan's inputs `dst`, checked (count, shapes) and converted with the GIL held.
std::vector<Tensor> new_inputs(const std::vector<Tensor>& dst, const py::list& src) {
  TL_CHECK(dst.size() == src.size(), "capture", src.size(), " inputs for ", dst.size(), " captured inputs");
  std::vector<Tensor> from;
  from.reserve(dst.size());
  for (size_t i = 0; i < dst.size(); ++i) {
    from.push_back(to_tensor(src[i], std::nullopt, false));  // a NumPy array is borrowed, not copied
    TL_CHECK(dst[i].shape() == from[i].shape(), "capture", "input ", i, " of shape ", shape_str(from[i].shape()),
             " for a captured input of shape ", shape_str(dst[i].shape()));
  }
  return from;
}

// Rows [start, stop) of each src (or rows index[start:stop], when `index` is given) into the
// captured input dst[i], whose shape is (stop - start, *src.shape[1:]): fit's batches gathered
// straight into a replayed plan's inputs, without a gathered copy in between. Everything is
// checked here, with the GIL held; the returned job copies (call it without the GIL).
struct RowGather {
  std::vector<const char*> from;
  std::vector<char*> to;
  std::vector<size_t> row_bytes;
  std::vector<int64_t> rows;  // source row of each batch row

  void operator()() const {
    for (size_t i = 0; i < to.size(); ++i)
      for (size_t r = 0; r < rows.size(); ++r)
        std::memcpy(to[i] + r * row_bytes[i], from[i] + rows[r] * row_bytes[i], row_bytes[i]);
  }
};

RowGather row_gather(const std::vector<Tensor>& dst, const std::vector<Tensor>& src, const std::optional<Tensor>& index,
                     int64_t start, int64_t stop) {
  const char* op = "capture.run_rows";
  TL_CHECK(dst.size() == src.size(), op, src.size(), " sources for ", dst.size(), " captured inputs");
  TL_CHECK(!src.empty(), op, "no sources");
  TL_CHECK(src[0].ndim() >= 1, op, "source 0 is 0-d; rows need a first axis");
  const int64_t n = src[0].dim(0);
  const int64_t limit = index ? (index->ndim() == 1 ? index->dim(0) : -1) : n;
  if (index) {
    TL_CHECK(index->ndim() == 1 && index->dtype() == DType::Int64 && index->is_contiguous(), op,
             "index must be a contiguous 1-d int64 tensor, got shape ", shape_str(index->shape()), " (",
             dtype_name(index->dtype()), ")");
  }
  TL_CHECK_INDEX(0 <= start && start <= stop && stop <= limit, op, "rows [", start, ", ", stop, ") out of range for ",
                 limit, index ? " index entries" : " rows");
  RowGather job;
  job.rows.resize(static_cast<size_t>(stop - start));
  for (int64_t r = start; r < stop; ++r) {
    const int64_t row = index ? index->data<int64_t>()[r] : r;
    TL_CHECK_INDEX(0 <= row && row < n, op, "index ", row, " out of range for ", n, " rows");
    job.rows[static_cast<size_t>(r - start)] = row;
  }
  for (size_t i = 0; i < src.size(); ++i) {
    const Tensor& s = src[i];
    const Tensor& d = dst[i];
    TL_CHECK(s.ndim() >= 1 && s.dim(0) == n, op, "source ", i, " of shape ", shape_str(s.shape()), " has not the ",
             n, " rows of source 0");
    Shape want = s.shape();
    want[0] = stop - start;
    TL_CHECK(d.shape() == want && d.dtype() == s.dtype(), op, "source ", i, " (", shape_str(s.shape()), ", ",
             dtype_name(s.dtype()), ") rows ", start, ":", stop, " for a captured input of shape ",
             shape_str(d.shape()), " (", dtype_name(d.dtype()), ")");
    TL_CHECK(s.is_contiguous() && d.is_contiguous(), op, "source ", i, " must be contiguous");
    d.check_writable(op);
    job.from.push_back(static_cast<const char*>(s.data_ptr()));
    job.to.push_back(static_cast<char*>(d.data_ptr()));
    job.row_bytes.push_back(static_cast<size_t>(s.numel() / std::max<int64_t>(n, 1)) * s.itemsize());
  }
  return job;
}

}  // namespace

void bind_capture(py::module_& m) {
  auto c = m.def_submodule("_capture", "Capture and replay of steps built from ops (see tensorlet.capture).");
  py::register_exception<capture::ReplayMismatch>(c, "ReplayMismatch", PyExc_RuntimeError);
  py::class_<capture::Plan, std::shared_ptr<capture::Plan>>(c, "Plan", "A recorded step: its ops in call order.")
      .def(py::init<>())
      .def("replay", [](capture::Plan& p) {
             py::gil_scoped_release release;
             p.replay();
           }, "Re-runs every recorded op (grad mode off, without the GIL) into the recorded buffers.")
      .def("profile", [](capture::Plan& p, int reps) {
             py::gil_scoped_release release;
             return p.profile(reps);
           }, py::arg("reps") = 20, "Replays `reps` times; the median seconds of each entry (for profiling).")
      .def("replay_range", [](capture::Plan& p, size_t begin, size_t end) {
             py::gil_scoped_release release;
             capture::replay_range(p, begin, end);
           }, py::arg("begin"), py::arg("end"),
           "Replays entries [begin, end) only (without the GIL); consecutive ranges in order make one replay.")
      .def_property_readonly("leaf_grads", [](const capture::Plan& p) {
             py::list out;
             for (const auto& r : capture::leaf_grad_entries(p)) out.append(py::make_tuple(r.index, r.leaf, r.grad));
             return out;
           }, "(entry index, leaf, gradient) for each recorded .grad assignment, in plan order: once that entry "
              "has run, the gradient tensor (what the leaf's .grad then holds) is final for the step.")
      .def_property_readonly("ops", [](const capture::Plan& p) {
             std::vector<std::string> names;
             for (const auto& e : p.entries) names.push_back(e.op);
             return names;
           }, "The recorded calls' names, in order.")
      .def_property_readonly("lowered", &capture::Plan::lowered_entries,
                             "How many entries replay as their logged kernel calls (the rest re-run their op).")
      .def_property_readonly("lowered_ops", [](const capture::Plan& p) {
             std::vector<std::string> names;
             for (const auto& e : p.entries)
               if (e.lowered) names.push_back(e.op);
             return names;
           }, "The names of the entries that replay as kernel calls.")
      .def_property_readonly("arena_bytes", &capture::Plan::arena_bytes,
                             "Bytes of the buffers the plan's ops allocate (kept between replays), after sharing.")
      .def_property_readonly("unshared_bytes", &capture::Plan::unshared_bytes,
                             "Bytes of every buffer the plan's ops allocate, as if none shared memory.")
      .def_readonly("python_read", &capture::Plan::python_read,
                    "How Python first read tensor values while the step was recorded ('float()', '.item()', "
                    "...), or '' if it never did.")
      .def("share_buffers", &capture::Plan::share_buffers, py::arg("visible"),
           "Lets buffers with disjoint live ranges share memory from the next replay on, except those of the "
           "`visible` tensors (the step's outputs) and .grad buffers; returns the arena bytes it will hold.")
      .def("fuse", [](capture::Plan& p, const std::vector<Tensor>& visible) {
             py::dict fired;
             for (const auto& [name, n] : capture::fuse(p, visible)) fired[py::str(name)] = n;
             return fired;
           }, py::arg("visible"),
           "Applies the fusion rewrites (capture/rewrite.h) to a freshly recorded plan, keeping the `visible` "
           "tensors (the step's outputs); returns how often each rewrite fired, by name. Call before share_buffers.")
      .def("__len__", [](const capture::Plan& p) { return p.entries.size(); });
  c.def("signature", [](py::args args, py::kwargs kwargs) {
          Signature sig;
          sig.walk(args);
          if (kwargs.size()) sig.walk(kwargs);
          py::tuple key = py::make_tuple(py::bytes(sig.meta), py::tuple(sig.others));
          return py::make_tuple(key, sig.tensors, sig.requires_grad);
        },
        "(key, tensors, any_requires_grad) for a call's arguments: the key selects the captured plan.");
  c.def("run", [](capture::Plan& p, const std::vector<Tensor>& dst, const py::list& src, std::optional<size_t> end) {
          const std::vector<Tensor> from = new_inputs(dst, src);
          py::gil_scoped_release release;
          for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_from(from[i]);
          // A whole replay moves the buffers share_buffers planned (at the first one); a segmented
          // replay never moves them (capture/segments.h).
          if (end) capture::replay_range(p, 0, *end);
          else p.replay();
        }, py::arg("plan"), py::arg("dst"), py::arg("src"), py::arg("end") = py::none(),
        "Copies (and casts) each src into the captured input dst[i]'s buffer, then replays the plan (its entries "
        "before `end` when given), without the GIL.");
  c.def("run_rows", [](capture::Plan& p, const std::vector<Tensor>& dst, const std::vector<Tensor>& src,
                       std::optional<Tensor> index, int64_t start, int64_t stop, std::optional<size_t> end) {
          const RowGather gather = row_gather(dst, src, index, start, stop);
          py::gil_scoped_release release;
          gather();
          if (end) capture::replay_range(p, 0, *end);
          else p.replay();
        }, py::arg("plan"), py::arg("dst"), py::arg("src"), py::arg("index"), py::arg("start"), py::arg("stop"),
        py::arg("end") = py::none(),
        "As run, with each captured input dst[i] filled by rows [start, stop) of src[i] (rows index[start:stop] "
        "when index is not None: a batch of a shuffled epoch) instead of a copy of a whole tensor.");
  c.def("begin", [](const std::shared_ptr<capture::Plan>& p) { capture::begin_recording(p.get()); }, py::arg("plan"),
        "Starts recording this thread's outermost op calls into `plan` (end() stops).");
  c.def("end", &capture::end_recording);
  c.def("is_recording", &capture::recording);
  c.def("host_access", &capture::set_host_access, py::arg("on"),
        "host_access(True) ... host_access(False) brackets Python's writes of host state a replay reads "
        "(through NumPy, unrecorded): a captured step does not count them as reads of its values.");
  c.def("return_free_memory", [] {
#if defined(__GLIBC__)
    py::gil_scoped_release release;
    malloc_trim(0);
#endif
  }, "Gives the heap's free pages back to the system (glibc's malloc_trim; a no-op elsewhere).");
}

}  // namespace tl::bind
