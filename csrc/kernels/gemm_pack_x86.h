// Transposing pack for the GEMM with AVX2 (8x8 float / 4x4 double register transposes):
//   dst[p * R + r] = src[r * ld + p] for r < rows, 0 for rows <= r < R, p < k,
// i.e. a row-major A (or a transposed B) into k-major micro-panels. The scalar version costs
// ~10% of a large GEMM; this one runs at close to copy speed.
//
// Include only inside an anonymous namespace of a file compiled with AVX2 (gemm_avx2.cpp,
// gemm_avx512.cpp), after <immintrin.h>.

// Lane mask with the first n (0..8) 32-bit lanes set, for maskload/maskstore.
inline __m256i first_lanes_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

inline void transpose4x4(__m256d r[4]) {
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

struct PackF32 {
  using T = float;
  using Reg = __m256;
  static constexpr int B = 8;  // block edge: B rows x B k values per register transpose
  static Reg load(const T* p) { return _mm256_loadu_ps(p); }
  static Reg zero() { return _mm256_setzero_ps(); }
  static void transpose(Reg* r) { transpose8x8(r); }
  static void store(T* p, Reg v, int width) {
    if (width == B) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, first_lanes_mask(width), v);
  }
};

struct PackF64 {
  using T = double;
  using Reg = __m256d;
  static constexpr int B = 4;
  static Reg load(const T* p) { return _mm256_loadu_pd(p); }
  static Reg zero() { return _mm256_setzero_pd(); }
  static void transpose(Reg* r) { transpose4x4(r); }
  static void store(T* p, Reg v, int width) {
    // 64-bit lanes: each needs two 32-bit mask lanes.
    if (width == B) _mm256_storeu_pd(p, v);
    else _mm256_maskstore_pd(p, first_lanes_mask(2 * width), v);
  }
};

template <class P>
void pack_trans_x86(const typename P::T* src, int64_t ld, int64_t rows, int64_t k, int R, typename P::T* dst) {
  using T = typename P::T;
  using Reg = typename P::Reg;
  constexpr int B = P::B;
  const int64_t kb = k / B * B;
  // Row blocks from the top down. The top block is narrower than B when R is not a multiple
  // of B (the 6-row panels): its rows are stored with whole vectors whose B - width extra
  // lanes land at the start of row p + 1, in lanes that a later j, a lower block or the scalar
  // tail overwrites; only the panel's last row needs a masked store (microcoded on AMD: with
  // masks everywhere the pack cost about as much as the 6 x 16 kernel's FMAs at K = 288).
  for (int r0 = (R - 1) / B * B; r0 >= 0; r0 -= B) {
    const int64_t valid = rows - r0 < 0 ? 0 : (rows - r0 > B ? B : rows - r0);
    const int width = R - r0 < B ? R - r0 : B;
    for (int64_t p0 = 0; p0 < kb; p0 += B) {
      Reg r[B];
      for (int i = 0; i < B; ++i) r[i] = i < valid ? P::load(src + (r0 + i) * ld + p0) : P::zero();
      P::transpose(r);
      for (int j = 0; j < B; ++j) P::store(dst + (p0 + j) * R + r0, r[j], p0 + j + 1 < k ? B : width);
    }
  }
  for (int64_t p = kb; p < k; ++p)
    for (int r = 0; r < R; ++r) dst[p * R + r] = r < rows ? src[r * ld + p] : T(0);
}
