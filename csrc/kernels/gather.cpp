#include "kernels/gather.h"
#include <cstring>
#include "core/dtype.h"
#include "core/error.h"
#include "kernels/strided_loop.h"

namespace tl::kernels {

namespace {

int64_t prod(const std::vector<int64_t>& v) {
  int64_t n = 1;
  for (int64_t x : v) n *= x;
  return n;
}

// Walks every (p, b, s) of the loop, calling inner(a_ptr, d_ptr, n, a_stride, d_stride) on runs
// of the innermost (coalesced) S dim. Rows (p, b) are split across threads when `parallel`.
template <class Inner>
void index_loop(char* a, char* d, const IndexLoop& L, bool parallel, Inner&& inner) {
  const int64_t nb = static_cast<int64_t>(L.a_off.size());
  const int64_t np = prod(L.p_shape), ns = prod(L.s_shape);
  if (nb == 0 || np == 0 || ns == 0) return;
  const int64_t one = 1;
  LoopGeometry<2> g = coalesce_loop<2>(L.s_shape, {&L.s_a, &L.s_d}, {one, one});
  const int64_t nd = static_cast<int64_t>(g.shape.size());
  const int64_t n_inner = nd ? g.shape[nd - 1] : 1;
  const int64_t sa = nd ? g.byte_strides[0][nd - 1] : 0, sd = nd ? g.byte_strides[1][nd - 1] : 0;
  const int64_t pdims = static_cast<int64_t>(L.p_shape.size());

  auto rows = [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(nd > 1 ? nd - 1 : 0);
    for (int64_t r = r0; r < r1; ++r) {
      int64_t p = r / nb, b = r % nb;
      int64_t pa = 0, pd = 0;
      for (int64_t k = pdims - 1; k >= 0; --k) {
        int64_t i = p % L.p_shape[k];
        p /= L.p_shape[k];
        pa += i * L.p_a[k];
        pd += i * L.p_d[k];
      }
      char* xa = a + pa + L.a_off[b];
      char* xd = d + pd + L.d_off[b];
      if (nd <= 1) {
        inner(xa, xd, n_inner, sa, sd);
        continue;
      }
      std::fill(idx.begin(), idx.end(), 0);
      for (;;) {
        inner(xa, xd, n_inner, sa, sd);
        int64_t k = nd - 2;
        for (; k >= 0; --k) {
          xa += g.byte_strides[0][k];
          xd += g.byte_strides[1][k];
          if (++idx[k] < g.shape[k]) break;
          xa -= g.byte_strides[0][k] * g.shape[k];
          xd -= g.byte_strides[1][k] * g.shape[k];
          idx[k] = 0;
        }
        if (k < 0) break;
      }
    }
  };
  const int64_t total = np * nb;
  if (parallel && total * ns >= kParallelElementThreshold)
    parallel_for(0, total, std::max<int64_t>(1, kParallelElementThreshold / std::max<int64_t>(ns, 1)), rows);
  else
    rows(0, total);
}

struct Bytes16 {
  uint64_t w[2];
};

template <class T>
void copy_run(char* dst, int64_t s_dst, const char* src, int64_t s_src, int64_t n) {
  if (s_dst == int64_t(sizeof(T)) && s_src == int64_t(sizeof(T))) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(T));
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, src + i * s_src, sizeof(T));
    std::memcpy(dst + i * s_dst, &v, sizeof(T));
  }
}

template <class T>
void copy_loop(char* a, char* d, const IndexLoop& L, bool to_dense) {
  if (to_dense)
    index_loop(a, d, L, true, [](char* xa, char* xd, int64_t n, int64_t sa, int64_t sd) { copy_run<T>(xd, sd, xa, sa, n); });
  else
    index_loop(a, d, L, false, [](char* xa, char* xd, int64_t n, int64_t sa, int64_t sd) { copy_run<T>(xa, sa, xd, sd, n); });
}

void copy_dispatch(char* a, char* d, const IndexLoop& L, size_t itemsize, bool to_dense) {
  switch (itemsize) {
    case 1: return copy_loop<uint8_t>(a, d, L, to_dense);
    case 2: return copy_loop<uint16_t>(a, d, L, to_dense);
    case 4: return copy_loop<uint32_t>(a, d, L, to_dense);
    case 8: return copy_loop<uint64_t>(a, d, L, to_dense);
    case 16: return copy_loop<Bytes16>(a, d, L, to_dense);  // complex128
  }
  throw std::invalid_argument(str_cat("[index] unsupported item size ", itemsize));
}

}  // namespace

void gather(char* a, char* d, const IndexLoop& loop, size_t itemsize) { copy_dispatch(a, d, loop, itemsize, true); }

void scatter(char* a, const char* d, const IndexLoop& loop, size_t itemsize) {
  copy_dispatch(a, const_cast<char*>(d), loop, itemsize, false);
}

void scatter_add(char* a, const char* d, const IndexLoop& loop, DType dtype) {
  TL_DISPATCH_ALL(dtype, "index_add", [&] {
    // Serial: repeated indices write the same element.
    index_loop(a, const_cast<char*>(d), loop, false, [](char* xa, char* xd, int64_t n, int64_t sa, int64_t sd) {
      for (int64_t i = 0; i < n; ++i) {
        auto* pa = reinterpret_cast<scalar_t*>(xa + i * sa);
        const auto v = *reinterpret_cast<const scalar_t*>(xd + i * sd);
        if constexpr (std::is_same_v<scalar_t, bool>) *pa = *pa || v;
        else *pa = static_cast<scalar_t>(*pa + v);
      }
    });
  });
}

std::vector<std::vector<int64_t>> nonzero(const bool* data, const std::vector<int64_t>& shape) {
  const size_t nd = shape.size();
  const int64_t n = prod(shape);
  int64_t count = 0;
  for (int64_t i = 0; i < n; ++i) count += data[i] ? 1 : 0;
  std::vector<std::vector<int64_t>> out(nd);
  for (auto& row : out) row.reserve(static_cast<size_t>(count));
  if (count == 0) return out;
  std::vector<int64_t> idx(nd, 0);
  for (int64_t i = 0; i < n; ++i) {
    if (data[i])
      for (size_t k = 0; k < nd; ++k) out[k].push_back(idx[k]);
    for (int64_t k = static_cast<int64_t>(nd) - 1; k >= 0; --k) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

}  // namespace tl::kernels
