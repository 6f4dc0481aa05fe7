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
  // Large buffers (>= 4 MiB, NumPy's threshold) are 2 MiB aligned and advised for transparent
  // huge pages, as NumPy does: a fresh 40 MB output otherwise costs ~10k page faults per op.
  // Smaller ones are malloc'ed with 63 spare bytes and aligned by hand: glibc's memalign splits
  // chunks and costs several times a plain malloc/free, which shows on tiny tensors.
  constexpr size_t kHuge = size_t(1) << 21, kAlign = 64;
  const bool huge = nbytes >= (size_t(1) << 22);
  const size_t align = huge ? kHuge : kAlign;
  size_t padded = (nbytes + align - 1) / align * align;
  if (padded == 0) padded = align;
  if (padded < nbytes || padded > SIZE_MAX - kAlign) throw MemoryError(str_cat("cannot allocate ", nbytes, " bytes"));
  void* raw = huge ? std::aligned_alloc(kHuge, padded) : std::malloc(padded + kAlign - 1);
  if (!raw) throw MemoryError(str_cat("Unable to allocate ", nbytes, " bytes for a tensor"));
  void* p = raw;
  if (!huge) p = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw) + kAlign - 1) & ~uintptr_t(kAlign - 1));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) madvise(p, padded, MADV_HUGEPAGE);  // advice only: failure is harmless
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
