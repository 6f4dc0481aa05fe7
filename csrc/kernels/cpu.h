// CPU feature detection and the run-time choice of the SIMD instruction set for kernels.
//
// The ISA is chosen once, on first use: the best one that both the CPU (cpuid) and the OS
// (XGETBV: the OS saves the AVX / AVX-512 register state on context switches) support,
// unless TENSORLET_ISA=generic|avx2|avx512 forces one. A forced ISA the CPU cannot run falls
// back to the best available one with a warning on stderr. set_isa() changes it at run time
// (tests use it to cover every path the machine can run).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tl::kernels {

enum class Isa : int { Generic = 0, Avx2 = 1, Avx512 = 2 };

const char* isa_name(Isa isa);
// "generic" / "avx2" / "avx512" -> Isa; throws std::invalid_argument for anything else.
Isa parse_isa(const std::string& name);
// True when both the CPU and the OS support every instruction the ISA's kernels use.
bool isa_supported(Isa isa);
// The supported ISAs, from the most portable to the fastest.
std::vector<Isa> available_isas();
Isa active_isa();
// Throws std::invalid_argument when the machine cannot run `isa`.
void set_isa(Isa isa);

// Data cache sizes in bytes (per core for L1/L2), from sysconf, with defaults where the
// system does not say.
struct CacheInfo {
  int64_t l1d = 32 * 1024;
  int64_t l2 = 1024 * 1024;
  int64_t l3 = 8 * 1024 * 1024;
};
const CacheInfo& cache_info();

// Sets flush-to-zero and denormals-are-zero in MXCSR for the current thread while alive and
// restores the previous mode afterwards. Kernels run under it (worker threads have it set
// permanently): denormal operands cost ~100x on x86 and matter nowhere in deep learning, but
// it means results that would be denormal become 0, unlike NumPy. No-op off x86.
class DenormalGuard {
 public:
  DenormalGuard();
  ~DenormalGuard();
  DenormalGuard(const DenormalGuard&) = delete;
  DenormalGuard& operator=(const DenormalGuard&) = delete;

 private:
  unsigned saved_ = 0;
};
// Sets FTZ/DAZ for the current thread for good (worker threads call it once at start).
void set_flush_denormals();
// Whether DenormalGuard / set_flush_denormals do anything on this build (x86 only).
bool flushes_denormals();

}  // namespace tl::kernels
