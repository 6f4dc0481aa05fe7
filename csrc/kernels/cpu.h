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

// Flush-to-zero of subnormals (off unless asked for): kernels/denormal.h.

}  // namespace tl::kernels
