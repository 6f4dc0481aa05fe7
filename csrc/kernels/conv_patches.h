// Implicit im2col: the patch matrix of a convolution as an ASource for the GEMM driver, so the
// patches are gathered from the NHWC image straight into the GEMM's packed block of A (one
// mc x kc block per thread, sized for the caches) and no patch matrix is ever stored.
//   Patches (forward):        op(A) = patches, rows = output pixels, depth = patch index
//                             k = (kh * KW + kw) * C + c. A row-major block: each row's depth
//                             slice is a few contiguous runs of the image (one per kernel row
//                             when dilation is 1), copied with memcpy; the driver reads them
//                             with its row-major micro-kernel, or transposes them for wide N.
//   PatchesT (weight grad):   op(A) = patches^T, rows = patch index, depth = output pixels.
//                             A column-major block: each pixel's column is its patch slice,
//                             the same runs; the kernel reads it k-major (stride = the block's
//                             padded height).
// Channels-first images (N, C, H, W) have their own packer, PatchesCF: there one
// patch value of consecutive output pixels of an output row is a run along an image row
// (contiguous at stride 1), so the forward gathers column-major blocks and the kernel gradient
// row-major ones, one such line at a time.
// Cells in the padding are zeros. Internal to kernels/conv.cpp.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include "kernels/gemm.h"
#include "kernels/window.h"

namespace tl::kernels {

// Visits the input cells of patch row r (output pixel r of the batch, in NHWC order): for each
// kernel row kh, fn(index of the patch's (kh, kw0) cell, x cell offset of input cell (ih, iw0),
// number of cells kw in [kw0, kw1) that are inside the image), in increasing patch order.
// Cells outside are padding. With dilation 1 the visited cells of one kernel row are adjacent
// in memory, so the callers move them with one copy of (kw1 - kw0) * C values.
template <class F>
void for_each_patch_run(const Window& w, int64_t r, F&& fn) {
  const int64_t P = w.out_pixels();
  const int64_t n = r / P, p = r % P, oh = p / w.OW, ow = p % w.OW;
  const int64_t ih0 = oh * w.sh - w.ph, iw0 = ow * w.sw - w.pw;
  for (int64_t kh = 0; kh < w.KH; ++kh) {
    const int64_t ih = ih0 + kh * w.dh;
    if (ih < 0 || ih >= w.H) continue;
    const int64_t row = (n * w.H + ih) * w.W;
    if (w.dw == 1) {
      const int64_t kw0 = std::max<int64_t>(0, -iw0), kw1 = std::min<int64_t>(w.KW, w.W - iw0);
      if (kw0 < kw1) fn(kh * w.KW + kw0, row + iw0 + kw0, kw1 - kw0);
      continue;
    }
    for (int64_t kw = 0; kw < w.KW; ++kw) {
      const int64_t iw = iw0 + kw * w.dw;
      if (iw >= 0 && iw < w.W) fn(kh * w.KW + kw, row + iw, int64_t(1));
    }
  }
}

// Calls put(q, src, len) for the patch values q in [lo, hi) of pixel r in increasing q, src
// pointing at len contiguous image values, or null for len zeros (padding).
template <class T, class Put>
void for_each_patch_span(const Window& w, const T* x, int64_t r, int64_t lo, int64_t hi, Put&& put) {
  const int64_t C = w.C;
  int64_t q = lo;  // next value to emit
  for_each_patch_run(w, r, [&](int64_t cell, int64_t xcell, int64_t cells) {
    const int64_t a = std::max(lo, cell * C), b = std::min(hi, (cell + cells) * C);
    if (a >= b) return;
    if (q < a) put(q, static_cast<const T*>(nullptr), a - q);
    put(a, x + xcell * C + (a - cell * C), b - a);
    q = b;
  });
  if (q < hi) put(q, static_cast<const T*>(nullptr), hi - q);
}

// What the patch sources share: the geometry, the image and (for the kernel gradients,
// whose depth is a range of output pixels) the first pixel.
template <class T>
class PatchSource : public ASource<T> {
 public:
  PatchSource(const Window& w, const T* x, int64_t pixel0 = 0) : w_(w), x_(x), pixel0_(pixel0) {}

 protected:
  static int64_t padded(int64_t rows, int R) { return (rows + R - 1) / R * R; }
  Window w_;
  const T* x_;
  int64_t pixel0_;
};

template <class T>
class Patches final : public PatchSource<T> {
 public:
  using PatchSource<T>::PatchSource;
  bool row_major() const override { return true; }
  void pack(int64_t i, int64_t rows, int64_t p0, int64_t k, int R, T* dst) const override {
    for (int64_t r = 0; r < rows; ++r) {
      T* d = dst + r * k;
      for_each_patch_span(this->w_, this->x_, i + r, p0, p0 + k, [&](int64_t q, const T* s, int64_t len) {
        if (s) std::memcpy(d + (q - p0), s, size_t(len) * sizeof(T));
        else std::memset(d + (q - p0), 0, size_t(len) * sizeof(T));
      });
    }
    const int64_t padded = this->padded(rows, R);
    std::memset(dst + rows * k, 0, size_t((padded - rows) * k) * sizeof(T));
  }

};

template <class T>
class PatchesT final : public PatchSource<T> {
 public:
  using PatchSource<T>::PatchSource;  // depth index p is output pixel pixel0 + p of the batch
  bool row_major() const override { return false; }
  void pack(int64_t i, int64_t rows, int64_t p0, int64_t k, int R, T* dst) const override {
    // Column-major: pixel p's patch values [i, i + rows) are one contiguous column, filled
    // with a copy per run of the image as in the forward.
    const int64_t S = this->padded(rows, R), pixel0 = this->pixel0_;
    for (int64_t p = 0; p < k; ++p) {
      T* d = dst + p * S;
      for_each_patch_span(this->w_, this->x_, pixel0 + p0 + p, i, i + rows, [&](int64_t q, const T* s, int64_t len) {
        if (s) std::memcpy(d + (q - i), s, size_t(len) * sizeof(T));
        else std::memset(d + (q - i), 0, size_t(len) * sizeof(T));
      });
      std::memset(d + rows, 0, size_t(S - rows) * sizeof(T));
    }
  }

};

// out[j] = patch value q = (kh * KW + kw) * C + c of output pixel pix0 + j (j < count) of a
// channels-first image: per output row, zeros, the image row's cells at the stride, zeros.
template <class T>
void gather_cf_line(const Window& w, const T* x, int64_t q, int64_t pix0, int64_t count, T* out) {
  const int64_t c = q % w.C, cell = q / w.C, kh = cell / w.KW, kw = cell % w.KW;
  const int64_t P = w.out_pixels(), off = kw * w.dw - w.pw;
  // Output columns ow in [lo, hi) read inside the image: 0 <= ow * sw + off < W.
  const int64_t lo = off >= 0 ? 0 : (-off + w.sw - 1) / w.sw;
  const int64_t hi = w.W - 1 - off >= 0 ? std::min(w.OW, (w.W - 1 - off) / w.sw + 1) : 0;
  for (int64_t j = 0; j < count;) {
    const int64_t pix = pix0 + j, n = pix / P, p = pix % P, oh = p / w.OW, ow0 = p % w.OW;
    const int64_t len = std::min(count - j, w.OW - ow0), ih = oh * w.sh - w.ph + kh * w.dh;
    T* o = out + j;
    j += len;
    const int64_t a = std::clamp<int64_t>(lo - ow0, 0, len), b = std::clamp<int64_t>(hi - ow0, a, len);
    if (ih < 0 || ih >= w.H || a == b) {
      std::fill(o, o + len, T(0));
      continue;
    }
    const T* src = x + ((n * w.C + c) * w.H + ih) * w.W + (ow0 + a) * w.sw + off;
    std::fill(o, o + a, T(0));
    if (w.sw == 1) std::memcpy(o + a, src, size_t(b - a) * sizeof(T));
    else for (int64_t t = a; t < b; ++t, src += w.sw) o[t] = *src;
    std::fill(o + b, o + len, T(0));
  }
}

// Patches of a channels-first image, as lines of one patch value q along consecutive output
// pixels: for the forward (Transposed = false) a column-major block, one line per depth index;
// for the kernel gradient (Transposed: rows are patch values, depth is pixels pixel0 + p0 ..)
// a row-major block, one line per row.
template <class T, bool Transposed>
class PatchesCF final : public PatchSource<T> {
 public:
  using PatchSource<T>::PatchSource;
  bool row_major() const override { return Transposed; }
  void pack(int64_t i, int64_t rows, int64_t p0, int64_t k, int R, T* dst) const override {
    const int64_t S = this->padded(rows, R);
    const int64_t lines = Transposed ? rows : k, len = Transposed ? k : rows, stride = Transposed ? k : S;
    const int64_t q0 = Transposed ? i : p0, pixel = Transposed ? this->pixel0_ + p0 : i;
    for (int64_t l = 0; l < lines; ++l) {
      T* d = dst + l * stride;
      gather_cf_line(this->w_, this->x_, q0 + l, pixel, len, d);
      std::fill(d + len, d + stride, T(0));  // the padding rows of a column (none in a row)
    }
    if (Transposed) std::fill(dst + rows * k, dst + S * k, T(0));  // the padding rows
  }
};

}  // namespace tl::kernels
