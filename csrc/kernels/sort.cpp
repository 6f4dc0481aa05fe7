#include "kernels/sort.h"
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>
#include "core/error.h"
#include "kernels/cpu.h"
#include "kernels/parallel.h"
#include "kernels/sort_refill.h"
#include "kernels/sort_simd.h"

namespace tl::kernels {
namespace {

template <class T> constexpr bool kIsInt = std::is_integral_v<T>;
template <class T> constexpr bool kIsFloat = std::is_floating_point_v<T>;
template <class T> constexpr bool kSortable = kIsInt<T> || kIsFloat<T>;
// Calls fn(T{}) for the dtype's C++ type T when it has an order (the integers, float32 and
// float64); any other dtype (bool, float16, complex) is a TypeError naming op and dtype.
template <class F>
void dispatch_sortable(DType dtype, const char* op, F&& fn) {
  TL_DISPATCH_ALL(dtype, op, [&] {
    using T = scalar_t;
    if constexpr (!kSortable<T>) throw TypeError(str_cat("[", op, "] not supported for dtype ", dtype_name(dtype)));
    else fn(T{});
  });
}
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
template <class K> constexpr int kPassesOf = int((sizeof(K) * 8 + kDigitBits - 1) / kDigitBits);

// One LSD pass: dst position of each element = the running offset of its digit. load(i) gives
// the i-th key of the source (the first pass computes it from x, so no separate key pass),
// store(pos, key, i) writes it (the last pass converts back to values / writes the int64
// index). Stable, because every bucket is filled in source order.
template <class K, class C, class Load, class Store>
inline void radix_pass(int64_t n, C* offsets, int shift, Load load, Store store) {
  for (int64_t i = 0; i < n; ++i) {
    const K k = load(i);
    store(offsets[(k >> shift) & (kBuckets - 1)]++, k, i);
  }
}

// Stable LSD radix sort of one row of x into values and/or indices.
// Keys are computed on the fly in the first pass and turned back into values in the last, a
// digit that is the same for every key is skipped, and the scratch is never zero-filled: for
// 1M float32 that is one read pass (the histograms) and three scatter passes. Floats: -0.0 and
// +0.0 get one key and NaN the largest, then (values only) the zeros' run and the NaN tail are
// refilled from x in input order, so signs and NaN payloads come out exactly as NumPy's stable
// sort gives them. C: the count / index type (uint32_t unless the row has 2^32 elements).
// The direction is a template argument so the per-element key conversions carry no branch on it.
template <class T, class C, bool kDescending>
void radix_sort_row(const T* x, int64_t n, T* values, int64_t* indices) {
  constexpr bool descending = kDescending;
  using K = KeyOf<T>;
  constexpr int kPasses = kPassesOf<K>;
  std::unique_ptr<C[]> hist(new C[size_t(kPasses * kBuckets)]());
  int64_t nans = 0, zeros = 0, below_zero = 0;
  const K zero_key = to_key<T>(T(0), descending, true);
  for (int64_t i = 0; i < n; ++i) {
    const K k = to_key<T>(x[i], descending, true);
    for (int p = 0; p < kPasses; ++p) ++hist[size_t(p * kBuckets + ((k >> (p * kDigitBits)) & (kBuckets - 1)))];
    if constexpr (kIsFloat<T>) {
      nans += x[i] != x[i];
      zeros += k == zero_key;
      below_zero += k < zero_key;
    }
  }
  int active[kPasses], n_active = 0;
  const K k0 = to_key<T>(x[0], descending, true);
  for (int p = 0; p < kPasses; ++p) {
    C* h = &hist[size_t(p * kBuckets)];
    if (int64_t(h[(k0 >> (p * kDigitBits)) & (kBuckets - 1)]) == n) continue;  // one digit for all
    active[n_active++] = p;
    C sum = 0;
    for (int64_t b = 0; b < kBuckets; ++b) {
      const C c = h[b];
      h[b] = sum;
      sum += c;
    }
  }
  if (n_active == 0) {  // every key equal: the row is already in (stable) order
    if (values) std::memcpy(values, x, sizeof(T) * size_t(n));
    if (indices)
      for (int64_t i = 0; i < n; ++i) indices[i] = i;
    return;
  }
  // Buffers alternate so that the last pass lands in the outputs: a = scratch, b = values' own
  // memory reused as keys when only values are wanted (saves an allocation and its page faults).
  std::unique_ptr<K[]> own_a(new K[size_t(n)]), own_b;
  std::unique_ptr<C[]> idx_a, idx_b;
  K* buf[2] = {own_a.get(), nullptr};
  C* ibuf[2] = {nullptr, nullptr};
  if (indices || n_active > 2) {
    if (values && !indices && sizeof(K) == sizeof(T)) {
      buf[1] = reinterpret_cast<K*>(values);
    } else {
      own_b.reset(new K[size_t(n)]);
      buf[1] = own_b.get();
    }
  }
  if (indices) {
    idx_a.reset(new C[size_t(n)]);
    idx_b.reset(new C[size_t(n)]);
    ibuf[0] = idx_a.get();
    ibuf[1] = idx_b.get();
  }
  for (int j = 0; j < n_active; ++j) {
    const int p = active[j], shift = p * kDigitBits;
    C* off = &hist[size_t(p * kBuckets)];
    const bool first = j == 0, last = j == n_active - 1;
    const int d = (n_active - 1 - j) & 1 ? 0 : 1;  // pass n_active-2 writes buf[0], and so on
    K* dk = buf[d];
    C* di = ibuf[d];
    const K* sk = first ? nullptr : buf[1 - d];
    const C* si = first ? nullptr : ibuf[1 - d];
    auto load_x = [&](int64_t i) { return to_key<T>(x[i], descending, true); };
    auto load_k = [&](int64_t i) { return sk[i]; };
    if (last) {
      auto store_out = [&](C pos, K k, int64_t i) {
        if (values) values[pos] = from_key<T>(k, descending);
        if (indices) indices[pos] = int64_t(first ? C(i) : si[i]);
      };
      if (first) radix_pass<K, C>(n, off, shift, load_x, store_out);
      else radix_pass<K, C>(n, off, shift, load_k, store_out);
    } else if (indices) {
      auto store_ki = [&](C pos, K k, int64_t i) {
        dk[pos] = k;
        di[pos] = first ? C(i) : si[i];
      };
      if (first) radix_pass<K, C>(n, off, shift, load_x, store_ki);
      else radix_pass<K, C>(n, off, shift, load_k, store_ki);
    } else {
      auto store_k = [&](C pos, K k, int64_t) { dk[pos] = k; };
      if (first) radix_pass<K, C>(n, off, shift, load_x, store_k);
      else radix_pass<K, C>(n, off, shift, load_k, store_k);
    }
  }
  if constexpr (kIsFloat<T>) {
    if (values) refill_zeros_and_nans(x, n, below_zero, zeros, nans, values);
  }
}

// The dtypes sort_avx2.cpp vectorises: 4- and 8-byte integers and floats.
template <class T>
constexpr bool kVectorSorted = (kIsFloat<T> || std::is_same_v<T, int32_t> || std::is_same_v<T, uint32_t> ||
                                std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t>);

#ifdef TL_X86
// Rows at least this long are split over the thread pool: a few partition levels (each level's
// parts partitioned in parallel), then every part sorted on its own thread.
constexpr int64_t kParallelSortMin = int64_t(1) << 17;
constexpr int kSplitLevels = 4;  // up to 16 parts
// 64-bit integer rows at least this long try the 32-bit key sort (below it, the extra passes
// cost more than the narrower network saves).
constexpr int64_t kNarrowSortMin = 256;

// Runs fn(i) for every i < count on the pool, each thread claiming the next index when it is
// free (largest parts first, as the caller orders them), so a worker the OS deschedules holds
// up at most the one part it is on, not a fixed half of them.
template <class F>
void for_each_claimed(size_t count, F&& fn) {
  std::atomic<size_t> next{0};
  parallel_for(0, std::min<int64_t>(int64_t(count), get_num_threads()), 1, [&](int64_t, int64_t) {
    for (size_t i = next++; i < count; i = next++) fn(i);
  });
}

// The AVX2 value sort of one row (sort_simd.h): keys and a first split, the parts sorted (and
// turned back into values), the float refill.
template <class T>
void vector_value_sort(const T* x, int64_t n, bool descending, T* values) {
  if constexpr (sizeof(T) == 8 && !kIsFloat<T>) {
    // Range below 2^32: sort 32-bit keys (twice the lanes). They are written to the second half
    // of values' bytes and sorted into the first half, then widened in place.
    int64_t base;
    int32_t* narrow = reinterpret_cast<int32_t*>(values);
    if (n >= kNarrowSortMin && narrow_keys_avx2<T>(x, n, descending, narrow + n, &base)) {
      vector_value_sort<int32_t>(narrow + n, n, false, narrow);
      return widen_keys_avx2<T>(values, n, descending, base);
    }
  }
  using S = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  S* keys = reinterpret_cast<S*>(values);
  FloatCounts counts;
  const int64_t b = keys_and_split_avx2<T>(x, n, descending, values, &counts);
  if (n < kParallelSortMin || get_num_threads() == 1) {
    sort_keys_avx2<T>(values, b, descending);
    sort_keys_avx2<T>(values + b, n - b, descending);
  } else {
    std::vector<std::pair<int64_t, int64_t>> parts{{0, b}};  // (start, length)
    if (b < n) parts.emplace_back(b, n - b);
    for (int level = 1; level < kSplitLevels; ++level) {
      std::vector<int64_t> cut(parts.size());
      for_each_claimed(parts.size(), [&](size_t i) { cut[i] = partition_keys_avx2(keys + parts[i].first, parts[i].second); });
      std::vector<std::pair<int64_t, int64_t>> next;
      for (size_t i = 0; i < parts.size(); ++i) {
        const auto [start, len] = parts[i];
        if (cut[i] == len) {
          next.push_back(parts[i]);
        } else {
          next.emplace_back(start, cut[i]);
          next.emplace_back(start + cut[i], len - cut[i]);
        }
      }
      parts.swap(next);
    }
    std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for_each_claimed(parts.size(), [&](size_t i) { sort_keys_avx2<T>(values + parts[i].first, parts[i].second, descending); });
  }
  if constexpr (kIsFloat<T>) refill_zeros_and_nans(x, n, counts.below_zero, counts.zeros, counts.nans, values);
}
#endif

// Value sorts of the vectorised dtypes on AVX2 CPUs: the in-register quicksort (sort_simd.h).
// Otherwise rows shorter than kRadixMinRow: std::stable_sort on the same keys, longer: radix.
template <class T, class I>
void sort_row(const T* x, int64_t n, bool descending, T* values, int64_t* indices) {
#ifdef TL_X86
  if constexpr (kVectorSorted<T>) {
    if (values && !indices && active_isa() >= Isa::Avx2) return vector_value_sort<T>(x, n, descending, values);
  }
#endif
  if (n >= kRadixMinRow) {
    if (descending) return radix_sort_row<T, I, true>(x, n, values, indices);
    return radix_sort_row<T, I, false>(x, n, values, indices);
  }
  using K = KeyOf<T>;
  std::vector<I> idx(static_cast<size_t>(n));
  std::vector<K> keys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) keys[size_t(i)] = to_key<T>(x[i], descending, true);
  for (int64_t i = 0; i < n; ++i) idx[size_t(i)] = I(i);
  std::stable_sort(idx.begin(), idx.end(), [&](I a, I b) { return keys[size_t(a)] < keys[size_t(b)]; });
  for (int64_t i = 0; i < n; ++i) {
    if (values) values[i] = x[idx[size_t(i)]];
    if (indices) indices[i] = int64_t(idx[size_t(i)]);
  }
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
  dispatch_sortable(x.dtype(), "sort", [&](auto tag) {
    using T = decltype(tag);
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
  });
}

int64_t compact_runs(const Tensor& s, const Tensor& counts) {
  TL_CHECK(s.is_contiguous() && s.ndim() == 1, "unique_values", "internal: s must be 1-D contiguous");
  TL_CHECK(!counts.defined() || (counts.is_contiguous() && counts.dtype() == DType::Int64 && counts.numel() == s.numel()),
           "unique_counts", "internal: bad counts buffer");
  const int64_t n = s.numel();
  if (n == 0) return 0;
  int64_t m = 1;
  dispatch_sortable(s.dtype(), "unique_values", [&](auto tag) {
    using T = decltype(tag);
    T* p = s.data<T>();
    T prev = p[0];
    if (!counts.defined()) {
      for (int64_t i = 1; i < n; ++i) {  // branch-free: always write, advance past a new value
        const T v = p[i];
        p[m] = v;
        m += !(v == prev);
        prev = v;
      }
      return;
    }
    // Same pass, also writing where each run starts (slot m is provisional until a new value
    // advances m, as the value's); a run's count is then the next start minus its own.
    int64_t* c = counts.data<int64_t>();
    c[0] = 0;
    for (int64_t i = 1; i < n; ++i) {
      const T v = p[i];
      p[m] = v;
      c[m] = i;
      m += !(v == prev);
      prev = v;
    }
    for (int64_t k = 0; k + 1 < m; ++k) c[k] = c[k + 1] - c[k];  // reads c[k+1] before it changes
    c[m - 1] = n - c[m - 1];
  });
  return m;
}

void searchsorted(const Tensor& sorted, const Tensor& v, bool right, const Tensor& out) {
  TL_CHECK(sorted.is_contiguous() && v.is_contiguous() && out.is_contiguous() && sorted.dtype() == v.dtype() &&
               out.dtype() == DType::Int64 && out.numel() == v.numel(),
           "searchsorted", "internal: bad buffers");
  dispatch_sortable(v.dtype(), "searchsorted", [&](auto tag) {
    using T = decltype(tag);
    search<T>(sorted.data<T>(), sorted.numel(), v.data<T>(), v.numel(), right, out.data<int64_t>());
  });
}

}  // namespace tl::kernels
