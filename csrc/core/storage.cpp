#include "core/storage.h"
#include "capture/recorder.h"
#include "core/error.h"
#include <cstdint>
#include <cstdlib>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tl {

namespace {

std::shared_ptr<Storage> allocate_fresh(size_t nbytes) {
  // Buffers are malloc'ed with 63 spare bytes and aligned by hand: glibc's memalign splits
  // chunks and costs several times a plain malloc/free, which shows on tiny tensors. Large ones
  // (>= 4 MiB, NumPy's threshold) are advised for transparent huge pages on their 2 MiB-aligned
  // interior, as NumPy does: a fresh 40 MB output otherwise costs ~10k page faults per op. They
  // are not 2 MiB-aligned allocations: those ask glibc for 2 MiB more than NumPy's arrays of the
  // same size, above the mmap threshold NumPy's own frees set, so every one was a fresh mapping
  // whose pages the kernel zeroes (a third of a 1M int64 cumulative_sum's time).
  constexpr size_t kHuge = size_t(1) << 21, kAlign = 64;
  size_t padded = (nbytes + kAlign - 1) / kAlign * kAlign;
  if (padded == 0) padded = kAlign;
  if (padded < nbytes || padded > SIZE_MAX - kAlign) throw MemoryError(str_cat("cannot allocate ", nbytes, " bytes"));
  void* raw = std::malloc(padded + kAlign - 1);
  if (!raw) throw MemoryError(str_cat("Unable to allocate ", nbytes, " bytes for a tensor"));
  void* p = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw) + kAlign - 1) & ~uintptr_t(kAlign - 1));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (nbytes >= (size_t(1) << 22)) {  // advice only: failure is harmless
    const uintptr_t lo = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~uintptr_t(kHuge - 1);
    const uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + nbytes) & ~uintptr_t(kHuge - 1);
    if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
  }
#endif
  auto s = std::make_shared<Storage>();
  s->data = p;
  s->nbytes = nbytes;
  s->owner = std::shared_ptr<void>(raw, [](void* q) { std::free(q); });
  return s;
}

}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  // While a captured step records or replays, buffers come from (or go to) its allocation log.
  const capture::ThreadState& st = capture::state();
  if (st.replaying || st.entry) return capture::allocate(nbytes, &allocate_fresh);
  return allocate_fresh(nbytes);
}

std::shared_ptr<Storage> Storage::borrow(void* data, size_t nbytes, std::shared_ptr<void> owner, bool writable) {
  auto s = std::make_shared<Storage>();
  s->data = data;
  s->nbytes = nbytes;
  s->owner = std::move(owner);
  s->writable = writable;
  return s;
}

}  // namespace tl
