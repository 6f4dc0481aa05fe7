// Value sorts (no indices) as a vectorised quicksort, for CPUs with AVX2 (sort_avx2.cpp; the
// driver, which also splits big rows over the thread pool, is in sort.cpp).
//
// The row becomes signed order-preserving keys in the output buffer (fused with the first
// partition), the keys are sorted in place (AVX2 partition through a compress-permutation table, bitonic networks in registers
// for blocks of at most 32 vectors (256 int32 / 128 int64 keys), pivot = median of a sorted sample, heapsort when the
// recursion goes deeper than 2 log2 n) and turned back into values as each leaf is stored. Floats: NaN is the
// largest key in both directions and -0.0 / +0.0 one key; afterwards the zeros' run and the NaN
// tail are refilled from x in input order (sort_refill.h), so the result is bit for bit NumPy's
// stable sort. The radix sort in sort.cpp stays for argsort, other dtypes and non-AVX2 CPUs.
// Only call these when active_isa() >= Isa::Avx2.
#pragma once
#include <cstdint>

namespace tl::kernels {

// What the float refill needs: how many NaNs, zeros, and keys below zero's.
struct FloatCounts {
  int64_t nans = 0, zeros = 0, below_zero = 0;
};

// values[i] = the key of x[i] (int32_t / int64_t bits of T's width; ascending key order = the
// sort order), and, for rows longer than a leaf, partitioned on the way (the quicksort's first
// step fused with the key pass): returns b with every key in [0, b) <= every key in [b, n), or
// n when nothing was split. Floats add to *counts. T: float, double, int32_t, uint32_t,
// int64_t, uint64_t.
template <class T>
int64_t keys_and_split_avx2(const T* x, int64_t n, bool descending, T* values, FloatCounts* counts);
// Sorts the keys in values[0, n) and turns them back into values on the way (each leaf of the
// quicksort converts its keys as it stores them; floats: NaNs and zeros are placeholders until
// the refill).
template <class T>
void sort_keys_avx2(T* values, int64_t n, bool descending);
// 64-bit integers (int64_t, uint64_t) whose largest and smallest differ by less than 2^32 sort
// as 32-bit keys (8 lanes, not 4): narrow_keys writes keys[i] = x[i]'s distance from the row's
// smallest value (largest when descending) in int32 order and *base = that value, or returns
// false (writing nothing) when the range is wider. widen_keys turns the sorted narrow keys, held
// in the first 4n bytes of values, back into values in place.
template <class T>
bool narrow_keys_avx2(const T* x, int64_t n, bool descending, int32_t* keys, int64_t* base);
template <class T>
void widen_keys_avx2(T* values, int64_t n, bool descending, int64_t base);
// One quicksort partition around a sampled pivot: returns b with every key in [0, b) <= every
// key in [b, n), or n when it found no split (small or degenerate input; sort it whole).
int64_t partition_keys_avx2(int32_t* keys, int64_t n);
int64_t partition_keys_avx2(int64_t* keys, int64_t n);

}  // namespace tl::kernels
