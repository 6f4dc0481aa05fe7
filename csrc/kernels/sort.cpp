#include "kernels/sort.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>
#include "core/error.h"
#include "kernels/parallel.h"

namespace tl::kernels {
namespace {

template <class T> constexpr bool kIsInt = std::is_integral_v<T>;
template <class T> constexpr bool kIsFloat = std::is_floating_point_v<T>;
template <class T> constexpr bool kSortable = kIsInt<T> || kIsFloat<T>;
// 32-bit keys for types up to 4 bytes, 64-bit keys for 8-byte types.
template <class T> using KeyOf = std::conditional_t<(sizeof(T) <= 4), uint32_t, uint64_t>;

// An unsigned key whose order is the value order. Floats: NaN is the largest key (in both
// directions, as NumPy puts NaN last); `zero_equal` maps -0.0 to +0.0 (argsort's stability
// treats them as one value; a value sort keeps -0.0 before +0.0, also a correct order).
template <class T, class K = KeyOf<T>> inline K to_key(T v, bool descending, bool zero_equal) {
  K k;
  if constexpr (std::is_same_v<T, bool> || std::is_unsigned_v<T>) {
    k = K(v);
  } else if constexpr (kIsInt<T>) {
    k = K(std::make_unsigned_t<T>(v)) ^ (K(1) << (sizeof(T) * 8 - 1));
    if constexpr (sizeof(T) < sizeof(K)) k &= (K(1) << (sizeof(T) * 8)) - 1;
  } else {
    if (v != v) return std::numeric_limits<K>::max();
    if (zero_equal && v == T(0)) v = T(0);
    K bits;
    std::memcpy(&bits, &v, sizeof(T));
    const K sign = K(1) << (sizeof(K) * 8 - 1);
    k = (bits & sign) ? K(~bits) : K(bits | sign);
  }
  return descending ? K(~k) : k;
}

template <class T, class K = KeyOf<T>> inline T from_key(K k, bool descending) {
  if constexpr (kIsFloat<T>) {
    if (k == std::numeric_limits<K>::max()) return std::numeric_limits<T>::quiet_NaN();
  }
  if (descending) k = K(~k);
  if constexpr (std::is_same_v<T, bool>) {
    return k != 0;
  } else if constexpr (std::is_unsigned_v<T>) {
    return T(k);
  } else if constexpr (kIsInt<T>) {
    return T(std::make_unsigned_t<T>(k ^ (K(1) << (sizeof(T) * 8 - 1))));
  } else {
    const K sign = K(1) << (sizeof(K) * 8 - 1);
    K bits = (k & sign) ? K(k ^ sign) : K(~k);
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
  }
}

constexpr int kDigitBits = 11;
constexpr int64_t kBuckets = int64_t(1) << kDigitBits;

// Stable LSD radix sort of keys[0, n) (with their payload idx when idx != nullptr); the result
// lands back in keys/idx. tmp_k/tmp_i: scratch of n elements.
template <class K, class I>
void radix_sort(K* keys, I* idx, K* tmp_k, I* tmp_i, int64_t n) {
  constexpr int kPasses = int((sizeof(K) * 8 + kDigitBits - 1) / kDigitBits);
  std::vector<int64_t> hist(size_t(kPasses) * kBuckets, 0);
  for (int64_t i = 0; i < n; ++i) {
    K k = keys[i];
    for (int p = 0; p < kPasses; ++p) ++hist[size_t(p) * kBuckets + ((k >> (p * kDigitBits)) & (kBuckets - 1))];
  }
  K *src_k = keys, *dst_k = tmp_k;
  I *src_i = idx, *dst_i = tmp_i;
  for (int p = 0; p < kPasses; ++p) {
    int64_t* h = &hist[size_t(p) * kBuckets];
    const int shift = p * kDigitBits;
    if (h[(src_k[0] >> shift) & (kBuckets - 1)] == n) continue;  // every key has this digit
    int64_t sum = 0;
    for (int64_t b = 0; b < kBuckets; ++b) {
      int64_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    for (int64_t i = 0; i < n; ++i) {
      K k = src_k[i];
      int64_t pos = h[(k >> shift) & (kBuckets - 1)]++;
      dst_k[pos] = k;
      if (idx) dst_i[pos] = src_i[i];
    }
    std::swap(src_k, dst_k);
    std::swap(src_i, dst_i);
  }
  if (src_k != keys) {
    std::memcpy(keys, src_k, sizeof(K) * size_t(n));
    if (idx) std::memcpy(idx, src_i, sizeof(I) * size_t(n));
  }
}

template <class T, class I>
void sort_row(const T* x, int64_t n, bool descending, T* values, int64_t* indices) {
  using K = KeyOf<T>;
  const bool want_idx = indices != nullptr;
  std::vector<K> keys(static_cast<size_t>(n)), tmp_k(static_cast<size_t>(n));
  std::vector<I> idx(want_idx ? size_t(n) : 0), tmp_i(want_idx ? size_t(n) : 0);
  for (int64_t i = 0; i < n; ++i) keys[size_t(i)] = to_key<T>(x[i], descending, want_idx);
  if (want_idx)
    for (int64_t i = 0; i < n; ++i) idx[size_t(i)] = I(i);
  if (n < kRadixMinRow) {
    if (want_idx) {
      std::stable_sort(idx.begin(), idx.end(), [&](I a, I b) { return keys[size_t(a)] < keys[size_t(b)]; });
      for (int64_t i = 0; i < n; ++i) tmp_k[size_t(i)] = keys[size_t(idx[size_t(i)])];
      keys.swap(tmp_k);
    } else {
      std::sort(keys.begin(), keys.end());
    }
  } else {
    radix_sort<K, I>(keys.data(), want_idx ? idx.data() : nullptr, tmp_k.data(), want_idx ? tmp_i.data() : nullptr, n);
  }
  if (values)
    for (int64_t i = 0; i < n; ++i) values[i] = from_key<T>(keys[size_t(i)], descending);
  if (want_idx)
    for (int64_t i = 0; i < n; ++i) indices[i] = int64_t(idx[size_t(i)]);
}

// Searches keys (ascending, NaN last) like std::lower_bound / upper_bound.
template <class T>
void search(const T* sorted, int64_t n, const T* v, int64_t m, bool right, int64_t* out) {
  using K = KeyOf<T>;
  std::vector<K> keys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) keys[size_t(i)] = to_key<T>(sorted[i], false, true);
  parallel_for(0, m, 4096, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      K k = to_key<T>(v[j], false, true);
      auto it = right ? std::upper_bound(keys.begin(), keys.end(), k) : std::lower_bound(keys.begin(), keys.end(), k);
      out[j] = int64_t(it - keys.begin());
    }
  });
}

template <class T> inline T scan_step(ScanOp op, T acc, T x) {
  if constexpr (std::is_same_v<T, bool>) {
    return op == ScanOp::Sum ? (acc || x) : (acc && x);
  } else if constexpr (std::is_integral_v<T>) {
    // Wrap around like NumPy (unsigned arithmetic avoids signed-overflow UB).
    using U = std::make_unsigned_t<T>;
    using W = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, U>;
    return op == ScanOp::Sum ? T(U(W(U(acc)) + W(U(x)))) : T(U(W(U(acc)) * W(U(x))));
  } else {
    return op == ScanOp::Sum ? T(acc + x) : T(acc * x);
  }
}

}  // namespace

void sort_rows(const Tensor& x, int64_t rows, int64_t n, bool descending, const Tensor& values,
               const Tensor& indices) {
  TL_CHECK(x.is_contiguous() && rows * n == x.numel(), "sort", "internal: x must be contiguous (rows, n)");
  TL_CHECK(!values.defined() || (values.is_contiguous() && values.dtype() == x.dtype() && values.numel() == x.numel()),
           "sort", "internal: bad values buffer");
  TL_CHECK(!indices.defined() ||
               (indices.is_contiguous() && indices.dtype() == DType::Int64 && indices.numel() == x.numel()),
           "sort", "internal: bad indices buffer");
  if (rows == 0 || n == 0) return;
  TL_DISPATCH_ALL(x.dtype(), "sort", [&] {
    using T = scalar_t;
    if constexpr (!kSortable<T>) {
      throw TypeError(str_cat("[sort] not supported for dtype ", dtype_name(x.dtype())));
    } else {
      const T* xp = x.data<T>();
      T* vp = values.defined() ? values.data<T>() : nullptr;
      int64_t* ip = indices.defined() ? indices.data<int64_t>() : nullptr;
      const int64_t grain = std::max<int64_t>(1, kParallelElementThreshold / std::max<int64_t>(n, 1));
      parallel_for(0, rows, grain, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const T* xr = xp + r * n;
          T* vr = vp ? vp + r * n : nullptr;
          int64_t* ir = ip ? ip + r * n : nullptr;
          if (n <= int64_t(std::numeric_limits<uint32_t>::max())) sort_row<T, uint32_t>(xr, n, descending, vr, ir);
          else sort_row<T, uint64_t>(xr, n, descending, vr, ir);
        }
      });
    }
  });
}

void scan(ScanOp op, const Tensor& x, const Tensor& out, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  TL_CHECK(x.is_contiguous() && out.is_contiguous() && x.dtype() == out.dtype() && x.numel() == out.numel() &&
               outer * n * inner == x.numel(),
           "cumulative", "internal: bad scan buffers");
  if (x.numel() == 0) return;
  TL_DISPATCH_ALL(x.dtype(), "cumulative", [&] {
    using T = scalar_t;
    if constexpr (!kSortable<T>) {
      throw TypeError(str_cat("[cumulative] not supported for dtype ", dtype_name(x.dtype())));
    } else {
      const T* xp = x.data<T>();
      T* op_ = out.data<T>();
      const int64_t grain = std::max<int64_t>(1, kParallelElementThreshold / std::max<int64_t>(n * inner, 1));
      parallel_for(0, outer, grain, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) {
          const T* xo = xp + o * n * inner;
          T* yo = op_ + o * n * inner;
          if (inner == 1) {  // the common 1-D / last-axis case: one running accumulator
            if (reverse) {
              T acc = xo[n - 1];
              yo[n - 1] = acc;
              for (int64_t i = n - 2; i >= 0; --i) yo[i] = acc = scan_step<T>(op, acc, xo[i]);
            } else {
              T acc = xo[0];
              yo[0] = acc;
              for (int64_t i = 1; i < n; ++i) yo[i] = acc = scan_step<T>(op, acc, xo[i]);
            }
            continue;
          }
          for (int64_t s = 0; s < n; ++s) {
            const int64_t i = reverse ? n - 1 - s : s;
            const T* xi = xo + i * inner;
            T* yi = yo + i * inner;
            if (s == 0) {
              for (int64_t j = 0; j < inner; ++j) yi[j] = xi[j];
            } else {
              const T* prev = reverse ? yi + inner : yi - inner;
              for (int64_t j = 0; j < inner; ++j) yi[j] = scan_step<T>(op, prev[j], xi[j]);
            }
          }
        }
      });
    }
  });
}

void cumprod_grad(const Tensor& x, const Tensor& g, const Tensor& out, int64_t outer, int64_t n, int64_t inner) {
  TL_CHECK(x.is_contiguous() && g.is_contiguous() && out.is_contiguous() && is_floating(x.dtype()) &&
               g.dtype() == x.dtype() && out.dtype() == x.dtype() && outer * n * inner == x.numel() &&
               g.numel() == x.numel() && out.numel() == x.numel(),
           "cumulative_prod", "internal: bad gradient buffers");
  if (x.numel() == 0) return;
  TL_DISPATCH_FLOAT(x.dtype(), "cumulative_prod", [&] {
    using T = scalar_t;
    const T *xp = x.data<T>(), *gp = g.data<T>();
    T* rp = out.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t base = o * n * inner + j;
        T s = 0;  // S_i, from the end
        for (int64_t i = n - 1; i >= 0; --i) {
          const int64_t at = base + i * inner;
          s = (i == n - 1) ? gp[at] : T(gp[at] + xp[at + inner] * s);
          rp[at] = s;
        }
        T prefix = 1;  // x_0 ... x_{i-1}
        for (int64_t i = 0; i < n; ++i) {
          const int64_t at = base + i * inner;
          rp[at] = prefix * rp[at];
          prefix *= xp[at];
        }
      }
  });
}

void searchsorted(const Tensor& sorted, const Tensor& v, bool right, const Tensor& out) {
  TL_CHECK(sorted.is_contiguous() && v.is_contiguous() && out.is_contiguous() && sorted.dtype() == v.dtype() &&
               out.dtype() == DType::Int64 && out.numel() == v.numel(),
           "searchsorted", "internal: bad buffers");
  TL_DISPATCH_ALL(v.dtype(), "searchsorted", [&] {
    using T = scalar_t;
    if constexpr (!kSortable<T>) {
      throw TypeError(str_cat("[searchsorted] not supported for dtype ", dtype_name(v.dtype())));
    } else {
      search<T>(sorted.data<T>(), sorted.numel(), v.data<T>(), v.numel(), right, out.data<int64_t>());
    }
  });
}

}  // namespace tl::kernels
