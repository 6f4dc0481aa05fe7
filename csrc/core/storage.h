// Storage: one contiguous buffer shared by every view of it. Either our own 64-byte-aligned
// allocation, or memory borrowed from an owner (a NumPy array) that `owner` keeps alive.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tl {

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  bool writable = true;          // false for read-only NumPy buffers
  std::shared_ptr<void> owner;   // releases the memory (or the borrowed object) when the last view dies
  // Bumped by every in-place write into this buffer (ops/inplace.h: begin_inplace_write), as
  // PyTorch's _version; autograd's saved tensors compare it at backward. Shared by every view.
  std::atomic<uint32_t> version{0};

  // Allocates nbytes (64-byte aligned, uninitialised); throws tl::MemoryError when it cannot.
  static std::shared_ptr<Storage> allocate(size_t nbytes);
  static std::shared_ptr<Storage> borrow(void* data, size_t nbytes, std::shared_ptr<void> owner, bool writable);
};

}  // namespace tl
