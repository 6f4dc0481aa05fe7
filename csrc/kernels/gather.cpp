#include "kernels/gather.h"
#include <algorithm>
#include <atomic>
#include <cstring>
#include "core/dtype.h"
#include "core/error.h"
#include "kernels/parallel.h"
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

namespace {

// Calls fn(T{}) with T an unsigned type (or Bytes16) of the element size.
template <class F>
void by_itemsize(size_t itemsize, F&& fn) {
  switch (itemsize) {
    case 1: return fn(uint8_t{});
    case 2: return fn(uint16_t{});
    case 4: return fn(uint32_t{});
    case 8: return fn(uint64_t{});
    case 16: return fn(Bytes16{});
  }
  throw std::invalid_argument(str_cat("[index] unsupported item size ", itemsize));
}

void atomic_min(std::atomic<int64_t>& a, int64_t v) {
  int64_t cur = a.load(std::memory_order_relaxed);
  while (v < cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// Wraps a negative index; false when the index is out of range.
inline bool wrap(int64_t& i, int64_t size) {
  i += i < 0 ? size : 0;
  return static_cast<uint64_t>(i) < static_cast<uint64_t>(size);
}

// Masks are compacted in fixed chunks: counted in parallel, then each chunk writes from its
// prefix offset, so the result is the serial one.
constexpr int64_t kMaskChunk = 1 << 16;

template <class Body>
void mask_chunks(const bool* m, int64_t n, Body&& body) {
  const int64_t chunks = (n + kMaskChunk - 1) / kMaskChunk;
  std::vector<int64_t> off(static_cast<size_t>(chunks) + 1, 0);
  parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) off[c + 1] = count_true(m + c * kMaskChunk, std::min(kMaskChunk, n - c * kMaskChunk));
  });
  for (int64_t c = 0; c < chunks; ++c) off[c + 1] += off[c];
  parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c)
      body(c * kMaskChunk, std::min(kMaskChunk, n - c * kMaskChunk), off[c], off[c + 1] - off[c]);
  });
}

// d[k] = src(i) for the i < n with m[i], k counting up; `count` of them. Eight mask bytes at a
// time: all false is skipped, all true copied straight, mixed ones stored branch-free while the
// unconditional store cannot pass the end of d.
template <class T, class Src>
void compact(const bool* mb, int64_t n, int64_t count, T* d, Src src) {
  const auto* m = reinterpret_cast<const uint8_t*>(mb);
  int64_t k = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, m + i, 8);
    if (w == 0) continue;
    if (w == 0x0101010101010101ull) {
      for (int j = 0; j < 8; ++j) d[k + j] = src(i + j);
      k += 8;
    } else if (k + 8 < count) {
      for (int j = 0; j < 8; ++j) {
        d[k] = src(i + j);
        k += m[i + j] != 0;
      }
    } else {
      for (int j = 0; j < 8; ++j)
        if (m[i + j]) d[k++] = src(i + j);
    }
  }
  for (; i < n; ++i)
    if (m[i]) d[k++] = src(i);
}

}  // namespace

int64_t take_rows(const char* a, int64_t size, int64_t a_stride, const int64_t* idx, int64_t n, char* d,
                  int64_t row_bytes, size_t itemsize) {
  std::atomic<int64_t> bad{n};
  if (row_bytes != static_cast<int64_t>(itemsize)) {
    const int64_t grain = std::max<int64_t>(1, kParallelElementThreshold * static_cast<int64_t>(itemsize) /
                                                   std::max<int64_t>(row_bytes, 1));
    parallel_for(0, n, grain, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        int64_t i = idx[k];
        if (!wrap(i, size)) return atomic_min(bad, k);
        std::memcpy(d + k * row_bytes, a + i * a_stride, static_cast<size_t>(row_bytes));
      }
    });
  } else {
    by_itemsize(itemsize, [&](auto tag) {
      using T = decltype(tag);
      parallel_for(0, n, kParallelElementThreshold / 4, [&](int64_t b, int64_t e) {
        // Locals, not the captured references: the stores through dt could alias those, and
        // reloading them at each element serialises the (cache-missing) loads: 3x slower.
        const int64_t* ip = idx;
        const char* ap = a;
        T* dt = reinterpret_cast<T*>(d);
        const int64_t sz = size, st = a_stride;
        for (int64_t k = b; k < e; ++k) {
          int64_t i = ip[k];
          if (!wrap(i, sz)) return atomic_min(bad, k);
          std::memcpy(dt + k, ap + i * st, sizeof(T));
        }
      });
    });
  }
  const int64_t first_bad = bad.load();
  return first_bad < n ? first_bad : -1;
}

int64_t first_bad_index(const int64_t* idx, int64_t n, int64_t size) {
  for (int64_t k = 0; k < n; ++k) {
    int64_t i = idx[k];
    if (!wrap(i, size)) return k;
  }
  return -1;
}

void put_rows(char* a, int64_t size, int64_t a_stride, const int64_t* idx, int64_t n, const char* d, int64_t d_stride,
              int64_t row_bytes, size_t itemsize) {
  if (row_bytes != static_cast<int64_t>(itemsize)) {
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = idx[k] + (idx[k] < 0 ? size : 0);
      std::memcpy(a + i * a_stride, d + k * d_stride, static_cast<size_t>(row_bytes));
    }
    return;
  }
  by_itemsize(itemsize, [&](auto tag) {
    using T = decltype(tag);
    const int64_t* ip = idx;  // locals, as in take_rows
    char* ap = a;
    const char* dp = d;
    const int64_t sz = size, st = a_stride, ds = d_stride;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t i = ip[k] + (ip[k] < 0 ? sz : 0);
      std::memcpy(ap + i * st, dp + k * ds, sizeof(T));
    }
  });
}

int64_t count_true(const bool* mb, int64_t n) {
  const auto* m = reinterpret_cast<const uint8_t*>(mb);
  int64_t total = 0;
  for (int64_t i = 0; i < n;) {  // byte sums in blocks short enough not to overflow 32 bits
    const int64_t e = std::min(n, i + (int64_t(1) << 24));
    uint32_t c = 0;
    for (; i < e; ++i) c += m[i] != 0;
    total += c;
  }
  return total;
}

void mask_rows(const char* a, int64_t a_stride, const bool* m, int64_t n, char* d, int64_t row_bytes,
               size_t itemsize) {
  if (row_bytes != static_cast<int64_t>(itemsize)) {
    mask_chunks(m, n, [&](int64_t i0, int64_t len, int64_t k0, int64_t) {
      for (int64_t i = i0, k = k0; i < i0 + len; ++i)
        if (m[i]) std::memcpy(d + (k++) * row_bytes, a + i * a_stride, static_cast<size_t>(row_bytes));
    });
    return;
  }
  by_itemsize(itemsize, [&](auto tag) {
    using T = decltype(tag);
    mask_chunks(m, n, [&](int64_t i0, int64_t len, int64_t k0, int64_t cnt) {
      const char* base = a + i0 * a_stride;
      T* out = reinterpret_cast<T*>(d) + k0;
      const int64_t st = a_stride;
      if (st == int64_t(sizeof(T))) {
        const T* src = reinterpret_cast<const T*>(base);
        compact(m + i0, len, cnt, out, [src](int64_t i) { return src[i]; });
      } else {
        compact(m + i0, len, cnt, out, [base, st](int64_t i) {
          T v;
          std::memcpy(&v, base + i * st, sizeof(T));
          return v;
        });
      }
    });
  });
}

void flat_nonzero(const bool* m, int64_t n, int64_t* out) {
  mask_chunks(m, n, [&](int64_t i0, int64_t len, int64_t k0, int64_t cnt) {
    compact(m + i0, len, cnt, out + k0, [i0](int64_t i) { return i0 + i; });
  });
}

void nonzero(const bool* data, const std::vector<int64_t>& shape, int64_t* const* rows) {
  const size_t nd = shape.size();
  const int64_t n = prod(shape);
  if (nd == 0 || n == 0) return;
  if (nd == 1) return flat_nonzero(data, n, rows[0]);
  // Row by row of the last dim: its positions are compacted, the leading coordinates repeated.
  const int64_t last = shape[nd - 1], outer = n / last;
  std::vector<int64_t> idx(nd - 1, 0);
  int64_t k = 0;
  for (int64_t o = 0; o < outer; ++o) {
    const bool* m = data + o * last;
    const int64_t c = count_true(m, last);
    if (c) {
      compact(m, last, c, rows[nd - 1] + k, [](int64_t i) { return i; });
      for (size_t d = 0; d + 1 < nd; ++d) std::fill(rows[d] + k, rows[d] + k + c, idx[d]);
      k += c;
    }
    for (int64_t d = static_cast<int64_t>(nd) - 2; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace tl::kernels
