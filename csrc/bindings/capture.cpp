// tensorlet._core._capture: recording a step into a Plan and replaying it (capture/recorder.h);
// python/tensorlet/capture.py is the public face (CapturedFunction).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include "bindings/convert.h"
#include "capture/recorder.h"
#include "core/tensor.h"

namespace py = pybind11;

namespace tl::bind {

void bind_capture(py::module_& m) {
  auto c = m.def_submodule("_capture", "Capture and replay of steps built from ops (see tensorlet.capture).");
  py::register_exception<capture::ReplayMismatch>(c, "ReplayMismatch", PyExc_RuntimeError);
  py::class_<capture::Plan, std::shared_ptr<capture::Plan>>(c, "Plan", "A recorded step: its ops in call order.")
      .def(py::init<>())
      .def("replay", [](capture::Plan& p) {
             py::gil_scoped_release release;
             p.replay();
           }, "Re-runs every recorded op (grad mode off, without the GIL) into the recorded buffers.")
      .def_property_readonly("ops", [](const capture::Plan& p) {
             std::vector<std::string> names;
             for (const auto& e : p.entries) names.push_back(e.op);
             return names;
           }, "The recorded calls' names, in order.")
      .def_property_readonly("arena_bytes", &capture::Plan::arena_bytes,
                             "Bytes of the buffers the plan's ops allocate (kept between replays).")
      .def("__len__", [](const capture::Plan& p) { return p.entries.size(); });
  c.def("begin", [](const std::shared_ptr<capture::Plan>& p) { capture::begin_recording(p.get()); }, py::arg("plan"),
        "Starts recording this thread's outermost op calls into `plan` (end() stops).");
  c.def("end", &capture::end_recording);
  c.def("is_recording", &capture::recording);
  c.def("copy_inputs", [](const std::vector<Tensor>& dst, const py::list& src) {
          TL_CHECK(dst.size() == src.size(), "capture", src.size(), " inputs for ", dst.size(), " captured inputs");
          std::vector<Tensor> from;
          from.reserve(dst.size());
          for (size_t i = 0; i < dst.size(); ++i) {
            from.push_back(to_tensor(src[i], std::nullopt, false));  // a NumPy array is borrowed, not copied
            TL_CHECK(dst[i].shape() == from[i].shape(), "capture", "input ", i, " of shape ",
                     shape_str(from[i].shape()), " for a captured input of shape ", shape_str(dst[i].shape()));
          }
          py::gil_scoped_release release;
          for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_from(from[i]);
        }, py::arg("dst"), py::arg("src"),
        "Copies (and casts) each src into the captured input dst[i]'s buffer, outside any recording.");
}

}  // namespace tl::bind
