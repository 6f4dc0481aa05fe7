#include "capture/recorder.h"
#include "ops/random.h"
#include "ops/creation.h"
#include "ops/inplace.h"
#include <cstring>
#include <mutex>
#include <random>
#include <vector>

namespace tl::random {

namespace {

// The rows of x (axis 0) in the order perm gives: dst row i = src row perm[i].
void gather_rows(const Tensor& dst, const Tensor& src, const std::vector<int64_t>& perm) {
  const int64_t n = static_cast<int64_t>(perm.size());
  Shape row_shape(src.shape().begin() + 1, src.shape().end());
  Strides src_rs(src.strides().begin() + 1, src.strides().end()), dst_rs(dst.strides().begin() + 1, dst.strides().end());
  const bool rows_contiguous = is_contiguous(row_shape, src_rs) && is_contiguous(row_shape, dst_rs);
  const size_t row_bytes = static_cast<size_t>(checked_numel(row_shape)) * src.itemsize();
  for (int64_t i = 0; i < n; ++i) {
    Tensor d = dst.view_with(row_shape, dst_rs, dst.offset() + i * dst.strides()[0]);
    Tensor s = src.view_with(row_shape, src_rs, src.offset() + perm[i] * src.strides()[0]);
    if (rows_contiguous) std::memcpy(d.data_ptr(), s.data_ptr(), row_bytes);
    else d.copy_from(s);
  }
}

std::vector<int64_t> draw_permutation(LockedGenerator& lg, int64_t n) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  lg.with([&](Generator& g) { g.shuffle_permutation(perm.data(), n); return 0; });
  return perm;
}

}  // namespace

uint64_t entropy64() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

LockedGenerator::LockedGenerator() { gen_.seed(entropy64(), entropy64()); }
LockedGenerator::LockedGenerator(uint64_t lo, uint64_t hi) { gen_.seed(lo, hi); }

LockedGenerator& default_generator() {
  static LockedGenerator* g = new LockedGenerator();  // never destroyed: usable during exit
  return *g;
}

void seed(LockedGenerator& lg, uint64_t lo, uint64_t hi) {
  TL_CAPTURE_OP(seed, lg, lo, hi);
  lg.with([&](Generator& g) { g.seed(lo, hi); return 0; });
}

GeneratorState get_state(LockedGenerator& lg) {
  return lg.with([](Generator& g) { return g.state(); });
}

void set_state(LockedGenerator& lg, const GeneratorState& s) {
  TL_CAPTURE_OP(set_state, lg, s);
  TL_CHECK(s.buffer_pos >= 0 && s.buffer_pos <= 4, "random.set_state", "buffer_pos must be in [0, 4], got ", s.buffer_pos);
  lg.with([&](Generator& g) { g.state() = s; return 0; });
}

namespace {

// A recorded uniform replays as a fresh fill of its buffer from the generator (new numbers each
// replay, the op's very draws), and gives that fill as an elementwise call, which
// capture/elementwise_chain.cpp runs chunk by chunk: `prepare` draws (advancing the generator
// as the whole fill does), then each chunk fills its range of the values.
template <class T>
void lower_uniform(LockedGenerator& lg, double low, double high, const Tensor& out) {
  const capture::GeneratorRef ref = capture::Keep<LockedGenerator>::store(lg);
  const int64_t n = out.numel();
  auto draw = std::make_shared<UniformDraw<T>>();
  auto call = std::make_shared<capture::ElementwiseCall>();
  call->numel = n;
  call->operands = {{out.data_ptr(), sizeof(T), false}};
  call->prepare = [ref, draw, n, low, high] {
    ref.g->with([&](Generator& g) { g.draw_uniform(*draw, n, low, high); return 0; });
  };
  call->chunk = [draw](void* const* p, int64_t begin, int64_t m) { draw->fill(static_cast<T*>(p[0]), begin, begin + m); };
  capture::lower([ref, out, low, high] {
    ref.g->with([&](Generator& g) { g.fill_uniform(out.data<T>(), out.numel(), low, high); return 0; });
  }, {}, call);
}

}  // namespace

Tensor uniform(LockedGenerator& lg, double low, double high, const Shape& shape, DType dtype) {
  TL_CAPTURE_OP(uniform, lg, low, high, shape, dtype);
  TL_CHECK_TYPE(dtype == DType::Float32 || dtype == DType::Float64, "uniform",
                "dtype must be float32 or float64 (as NumPy's Generator), got ", dtype_name(dtype));
  if (!std::isfinite(high - low)) throw std::overflow_error("[uniform] high - low range exceeds valid bounds");
  checked_numel(shape, "uniform");
  Tensor out = Tensor::empty(shape, dtype);
  lg.with([&](Generator& g) {
    if (dtype == DType::Float32) g.fill_uniform(out.data<float>(), out.numel(), low, high);
    else g.fill_uniform(out.data<double>(), out.numel(), low, high);
    return 0;
  });
  if (tl_capture_scope_.records()) {  // this call is the recorded entry (not inside another op)
    if (dtype == DType::Float32) lower_uniform<float>(lg, low, high, out);
    else lower_uniform<double>(lg, low, high, out);
  }
  return out;
}

Tensor normal(LockedGenerator& lg, double loc, double scale, const Shape& shape, DType dtype) {
  TL_CAPTURE_OP(normal, lg, loc, scale, shape, dtype);
  TL_CHECK_TYPE(dtype == DType::Float32 || dtype == DType::Float64, "normal",
                "dtype must be float32 or float64 (as NumPy's Generator), got ", dtype_name(dtype));
  TL_CHECK(scale >= 0.0, "normal", "scale < 0");
  checked_numel(shape, "normal");
  Tensor out = Tensor::empty(shape, DType::Float64);
  lg.with([&](Generator& g) { g.fill_normal(out.data<double>(), out.numel(), loc, scale); return 0; });
  return out.to_dtype(dtype);
}

Tensor randint(LockedGenerator& lg, int64_t low, int64_t high_inclusive, const Shape& shape, DType dtype) {
  TL_CAPTURE_OP(randint, lg, low, high_inclusive, shape, dtype);
  TL_CHECK_TYPE(is_integral(dtype, true), "randint", "dtype must be an integer or bool dtype, got ", dtype_name(dtype));
  TL_CHECK(low <= high_inclusive, "randint", "low >= high");
  checked_numel(shape, "randint");
  Tensor out = Tensor::empty(shape, DType::Int64);
  const uint64_t rng = static_cast<uint64_t>(high_inclusive) - static_cast<uint64_t>(low);
  lg.with([&](Generator& g) { g.fill_bounded(out.data<int64_t>(), out.numel(), low, rng); return 0; });
  return out.to_dtype(dtype);
}

Tensor permutation(LockedGenerator& lg, int64_t n) {
  TL_CAPTURE_OP(permutation, lg, n);
  if (n < 0) n = 0;
  Tensor out = Tensor::empty({n}, DType::Int64);  // validates the size before drawing
  std::vector<int64_t> perm = draw_permutation(lg, n);
  if (n > 0) std::memcpy(out.data_ptr(), perm.data(), static_cast<size_t>(n) * sizeof(int64_t));
  return out;
}

Tensor permutation(LockedGenerator& lg, const Tensor& x) {
  TL_CAPTURE_OP(permutation, lg, x);
  TL_CHECK_INDEX(x.ndim() >= 1, "permutation", "x must be an integer or at least 1-dimensional");
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  if (x.numel() == 0) return out;
  gather_rows(out, x, draw_permutation(lg, x.shape()[0]));
  return out;
}

void shuffle(LockedGenerator& lg, const Tensor& x) {
  TL_CAPTURE_OP(shuffle, lg, x);
  TL_CHECK_TYPE(x.ndim() >= 1, "shuffle", "len() of unsized object");
  check_inplace_target(x, "shuffle");
  inplace_needs_graph(x, {}, "shuffle", false);  // raises when x takes part in autograd
  if (x.numel() == 0) return;  // like NumPy: no draws
  std::vector<int64_t> perm = draw_permutation(lg, x.shape()[0]);
  Tensor src = x.clone();
  begin_inplace_write(x, "shuffle");
  gather_rows(x, src, perm);
}

}  // namespace tl::random
