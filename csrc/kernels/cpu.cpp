#include "kernels/cpu.h"
#include "kernels/denormal.h"
#include <unistd.h>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define TL_HAVE_CPUID 1
#include <cpuid.h>
#endif

namespace tl::kernels {
namespace {

#ifdef TL_HAVE_CPUID
// XGETBV by opcode so this file needs no -mxsave; only called when CPUID says OSXSAVE.
uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

struct Features {
  bool avx2 = false;    // AVX2 + FMA + F16C with YMM state enabled by the OS
  bool avx512 = false;  // AVX-512 F/DQ/BW/VL with opmask/ZMM state enabled by the OS
};

Features detect() {
  Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12), f16c = c & (1u << 29);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;       // SSE + AVX state
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;     // + opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5);
  const bool avx512 = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 30)) && (b & (1u << 31));
  f.avx2 = ymm_state && avx2 && fma && f16c;
  f.avx512 = f.avx2 && zmm_state && avx512;
  return f;
}
#endif

bool cpu_supports(Isa isa) {
  switch (isa) {
    case Isa::Generic: return true;
#ifdef TL_HAVE_CPUID
    case Isa::Avx2: { static const Features f = detect(); return f.avx2; }
    case Isa::Avx512: { static const Features f = detect(); return f.avx512; }
#else
    default: return false;
#endif
  }
  return false;
}

Isa best_isa() {
  for (Isa isa : {Isa::Avx512, Isa::Avx2})
    if (isa_supported(isa)) return isa;
  return Isa::Generic;
}

Isa initial_isa() {
  const char* env = std::getenv("TENSORLET_ISA");
  if (!env || !*env) return best_isa();
  Isa wanted;
  try {
    wanted = parse_isa(env);
  } catch (const std::invalid_argument&) {
    std::fprintf(stderr, "tensorlet: ignoring TENSORLET_ISA=%s (expected generic, avx2 or avx512)\n", env);
    return best_isa();
  }
  if (isa_supported(wanted)) return wanted;
  const Isa fallback = best_isa();
  std::fprintf(stderr, "tensorlet: TENSORLET_ISA=%s is not supported by this CPU/OS; using %s\n", env,
               isa_name(fallback));
  return fallback;
}

std::atomic<int>& isa_slot() {
  static std::atomic<int> slot{int(initial_isa())};
  return slot;
}

int64_t sysconf_or(int name, int64_t fallback) {
  const long v = sysconf(name);
  return v > 0 ? int64_t(v) : fallback;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic: return "generic";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "unknown";
}

Isa parse_isa(const std::string& name) {
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512})
    if (name == isa_name(isa)) return isa;
  throw std::invalid_argument("unknown ISA '" + name + "' (expected generic, avx2 or avx512)");
}

bool isa_supported(Isa isa) {
#ifndef TL_X86
  // The per-ISA kernel files are only compiled with their flags on x86-64 builds.
  if (isa != Isa::Generic) return false;
#endif
  return cpu_supports(isa);
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512})
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

Isa active_isa() { return Isa(isa_slot().load(std::memory_order_relaxed)); }

void set_isa(Isa isa) {
  if (!isa_supported(isa))
    throw std::invalid_argument(std::string("ISA '") + isa_name(isa) + "' is not supported on this machine");
  isa_slot().store(int(isa), std::memory_order_relaxed);
}

const CacheInfo& cache_info() {
  static const CacheInfo info = [] {
    CacheInfo c;
#ifdef _SC_LEVEL1_DCACHE_SIZE
    c.l1d = sysconf_or(_SC_LEVEL1_DCACHE_SIZE, c.l1d);
    c.l2 = sysconf_or(_SC_LEVEL2_CACHE_SIZE, c.l2);
    c.l3 = sysconf_or(_SC_LEVEL3_CACHE_SIZE, c.l3);
#endif
    return c;
  }();
  return info;
}

std::atomic<bool> g_flush_denormal{false};  // kernels/denormal.h: subnormals kept unless asked

}  // namespace tl::kernels
