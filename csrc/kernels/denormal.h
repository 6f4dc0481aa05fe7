// Subnormal (denormal) floats: kept by default, as NumPy does; flushed to zero only when the
// user asks with set_flush_denormal(true) (tl.config.set_flush_denormal, PyTorch's name).
//
// Flushing is the x86 MXCSR bits FTZ (results) and DAZ (inputs), which are per thread. So the
// mode is one process-wide setting that every kernel applies to the thread it runs on:
// - DenormalGuard, at each kernel entry (parallel_for, strided_loop, gemm, the Dense stack),
//   sets the calling thread's bits to the mode and puts the thread's own bits back on exit,
//   so the user's thread state never changes across a tensorlet call;
// - a parallel region hands the caller's mode to the pool, and each worker applies it before
//   running a chunk, so every thread of one region computes with the same mode.
// The mode is forced both ways: a caller whose thread already flushes (another library set
// FTZ) still gets NumPy's subnormals from tensorlet unless the mode is on. That keeps results
// independent of the thread count. Off x86 there are no such bits: flushing is unsupported.
#pragma once
#include <atomic>
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define TL_HAVE_MXCSR 1
#include <xmmintrin.h>
#endif

namespace tl::kernels {

// The process-wide mode; defined in cpu.cpp.
extern std::atomic<bool> g_flush_denormal;

inline bool flush_denormal() { return g_flush_denormal.load(std::memory_order_relaxed); }

// Whether this build/CPU can flush (x86: every x86-64 CPU has FTZ and DAZ).
inline bool can_flush_denormal() {
#ifdef TL_HAVE_MXCSR
  return true;
#else
  return false;
#endif
}

// PyTorch's set_flush_denormal: returns false (and changes nothing) where unsupported.
inline bool set_flush_denormal(bool on) {
  if (!can_flush_denormal()) return false;
  g_flush_denormal.store(on, std::memory_order_relaxed);
  return true;
}

#ifdef TL_HAVE_MXCSR
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bits 15 (FTZ) and 6 (DAZ)
// This thread's MXCSR with FTZ/DAZ set to `flush` (the other bits, sticky flags included, kept).
inline unsigned mxcsr_with(unsigned csr, bool flush) { return flush ? (csr | kFtzDaz) : (csr & ~kFtzDaz); }
#endif

// Sets the current thread's FTZ/DAZ to `flush` for good (pool workers, per chunk).
inline void apply_flush_denormal(bool flush) {
#ifdef TL_HAVE_MXCSR
  const unsigned csr = _mm_getcsr();
  if (mxcsr_with(csr, flush) != csr) _mm_setcsr(mxcsr_with(csr, flush));
#else
  (void)flush;
#endif
}

// Applies the mode (the process-wide one, or an explicit one) to the current thread while alive,
// then restores the thread's own FTZ/DAZ bits. A stmxcsr and a compare when nothing changes.
class DenormalGuard {
 public:
  DenormalGuard() : DenormalGuard(flush_denormal()) {}
  explicit DenormalGuard(bool flush) : flush_(flush) {
#ifdef TL_HAVE_MXCSR
    saved_ = _mm_getcsr();
    changed_ = mxcsr_with(saved_, flush) != saved_;
    if (changed_) _mm_setcsr(mxcsr_with(saved_, flush));
#endif
  }
  ~DenormalGuard() {
#ifdef TL_HAVE_MXCSR
    if (changed_) _mm_setcsr((_mm_getcsr() & ~kFtzDaz) | (saved_ & kFtzDaz));
#endif
  }
  DenormalGuard(const DenormalGuard&) = delete;
  DenormalGuard& operator=(const DenormalGuard&) = delete;
  // The mode this guard applied (handed on to the pool workers).
  bool flush() const { return flush_; }

 private:
  bool flush_;
#ifdef TL_HAVE_MXCSR
  unsigned saved_ = 0;
  bool changed_ = false;
#endif
};

}  // namespace tl::kernels
