#include "core/storage.h"
#include "core/error.h"
#include <cstdlib>

namespace tl {

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  constexpr size_t kAlign = 64;
  size_t padded = (nbytes + kAlign - 1) / kAlign * kAlign;
  if (padded == 0) padded = kAlign;
  if (padded < nbytes) throw MemoryError(str_cat("cannot allocate ", nbytes, " bytes"));
  void* p = std::aligned_alloc(kAlign, padded);
  if (!p) throw MemoryError(str_cat("Unable to allocate ", nbytes, " bytes for a tensor"));
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
