#include "core/storage.h"
#include "core/error.h"
#include <cstdlib>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tl {

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  // Large buffers (>= 4 MiB, NumPy's threshold) are 2 MiB aligned and advised for transparent
  // huge pages, as NumPy does: a fresh 40 MB output otherwise costs ~10k page faults per op.
  constexpr size_t kHuge = size_t(1) << 21;
  const size_t kAlign = nbytes >= (size_t(1) << 22) ? kHuge : 64;
  size_t padded = (nbytes + kAlign - 1) / kAlign * kAlign;
  if (padded == 0) padded = kAlign;
  if (padded < nbytes) throw MemoryError(str_cat("cannot allocate ", nbytes, " bytes"));
  void* p = std::aligned_alloc(kAlign, padded);
  if (!p) throw MemoryError(str_cat("Unable to allocate ", nbytes, " bytes for a tensor"));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (kAlign == kHuge) madvise(p, padded, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
  auto s = std::make_shared<Storage>();
  s->data = p;
  s->nbytes = nbytes;
  s->owner = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  return s;
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
