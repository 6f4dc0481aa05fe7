// Standalone tests of the pure kernels (no Python): the fast GEMM against gemm_reference on
// every ISA this CPU runs and with 1 and 2 threads, ISA dispatch, and parallel_for.
// Built with -DTENSORLET_BUILD_TESTS=ON; run ./build/tensorlet_kernel_tests.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include "kernels/cpu.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "expect.h"

using namespace tl;
using namespace tl::kernels;


struct Case {
  bool ta, tb;
  int64_t M, N, K, pad;  // pad: extra elements on every leading dimension
  double alpha, beta;
  bool bias, relu;
};

template <class T>
static bool run_case(const Case& c, std::mt19937& rng, double* worst) {
  std::uniform_real_distribution<double> dist(-1, 1);
  const int64_t a_rows = c.ta ? c.K : c.M, a_cols = c.ta ? c.M : c.K;
  const int64_t b_rows = c.tb ? c.N : c.K, b_cols = c.tb ? c.K : c.N;
  const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.N + c.pad;
  std::vector<T> A(size_t(std::max<int64_t>(a_rows * lda, 1))), B(size_t(std::max<int64_t>(b_rows * ldb, 1)));
  std::vector<T> C(size_t(std::max<int64_t>(c.M * ldc, 1))), bias(size_t(std::max<int64_t>(c.N, 1)));
  for (auto& x : A) x = T(dist(rng));
  for (auto& x : B) x = T(dist(rng));
  for (auto& x : C) x = T(dist(rng));
  for (auto& x : bias) x = T(dist(rng));
  std::vector<T> want = C;
  Epilogue<T> ep{c.bias ? bias.data() : nullptr, c.relu ? Activation::Relu : Activation::None};
  gemm_reference<T>(c.ta, c.tb, c.M, c.N, c.K, T(c.alpha), A.data(), lda, B.data(), ldb, T(c.beta), want.data(), ldc, ep);
  gemm<T>(c.ta, c.tb, c.M, c.N, c.K, T(c.alpha), A.data(), lda, B.data(), ldb, T(c.beta), C.data(), ldc, ep);
  const double eps = sizeof(T) == 4 ? 1e-5 : 1e-13;
  const double tol = eps * (double(c.K) + 4);
  bool ok = true;
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const double got = double(C[size_t(i * ldc + j)]), exp = double(want[size_t(i * ldc + j)]);
      const double err = std::fabs(got - exp);
      if (j >= c.N) ok &= got == exp;  // padding untouched
      else if (!(err <= tol * (1 + std::fabs(exp)))) ok = false;
      if (j < c.N) *worst = std::max(*worst, err);
    }
  return ok;
}

template <class T>
static void test_gemm_all(const char* tname) {
  std::mt19937 rng(1234);
  const int64_t sizes[] = {1, 2, 7, 17, 33, 129};
  std::vector<Case> cases;
  for (int t = 0; t < 4; ++t)
    for (int64_t M : sizes)
      for (int64_t N : {int64_t(1), int64_t(10), int64_t(17), int64_t(64), int64_t(129)})
        for (int64_t K : {int64_t(1), int64_t(9), int64_t(300)})
          cases.push_back({bool(t & 1), bool(t & 2), M, N, K, (M + N) % 3, 1.0, 0.0, false, false});
  // Epilogues, alpha/beta, empty dims, blocking boundaries (K > kc, N > nc, M > mc).
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    cases.push_back({ta, tb, 37, 45, 23, 1, 0.5, -2.0, true, true});
    cases.push_back({ta, tb, 50, 70, 31, 0, 1.0, 1.0, true, false});
    cases.push_back({ta, tb, 13, 10, 1100, 3, -1.5, 0.25, true, true});
    cases.push_back({ta, tb, 0, 5, 3, 0, 1.0, 0.0, false, false});
    cases.push_back({ta, tb, 5, 0, 3, 0, 1.0, 0.0, false, false});
    cases.push_back({ta, tb, 5, 6, 0, 2, 1.0, 0.5, true, true});
    cases.push_back({ta, tb, 6, 7, 8, 1, 0.0, 2.0, true, false});
    cases.push_back({ta, tb, 1030, 1100, 40, 1, 1.0, 0.0, true, true});
    cases.push_back({ta, tb, 128, 512, 784, 0, 1.0, 0.0, true, true});
    cases.push_back({ta, tb, 300, 10, 70, 2, 0.5, -1.0, true, true});  // C^T path when ta
    cases.push_back({ta, tb, 5, 200, 33, 1, 1.0, 0.5, true, false});   // B read in place
  }
  for (Isa isa : available_isas()) {
    set_isa(isa);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      int bad = 0;
      double worst = 0;
      for (const Case& c : cases) {
        if (!run_case<T>(c, rng, &worst)) {
          if (++bad <= 5)
            std::printf("  mismatch %s %s threads=%d ta=%d tb=%d M=%lld N=%lld K=%lld pad=%lld a=%g b=%g bias=%d relu=%d\n",
                        tname, isa_name(isa), threads, c.ta, c.tb, (long long)c.M, (long long)c.N, (long long)c.K,
                        (long long)c.pad, c.alpha, c.beta, c.bias, c.relu);
        }
      }
      EXPECT(bad == 0, "gemm<%s> on %s with %d threads: %d of %zu cases wrong (worst abs err %g)", tname,
             isa_name(isa), threads, bad, cases.size(), worst);
    }
  }
}

template <class T>
static void test_gemm_integer(const char* tname) {
  std::mt19937 rng(7);
  for (int t = 0; t < 4; ++t) {
    Case c{bool(t & 1), bool(t & 2), 9, 11, 13, 1, 3, 2, true, true};
    const int64_t lda = (c.ta ? c.M : c.K) + 1, ldb = (c.tb ? c.K : c.N) + 1, ldc = c.N + 1;
    std::vector<T> A(size_t(20 * lda)), B(size_t(20 * ldb)), C(size_t(c.M * ldc)), bias(size_t(c.N));
    for (auto& x : A) x = T(int(rng() % 200) - 60);
    for (auto& x : B) x = T(int(rng() % 200) - 60);
    for (auto& x : C) x = T(int(rng() % 50));
    for (auto& x : bias) x = T(int(rng() % 50) - 25);
    std::vector<T> want = C;
    Epilogue<T> ep{bias.data(), Activation::Relu};
    gemm_reference<T>(c.ta, c.tb, c.M, c.N, c.K, T(3), A.data(), lda, B.data(), ldb, T(2), want.data(), ldc, ep);
    gemm<T>(c.ta, c.tb, c.M, c.N, c.K, T(3), A.data(), lda, B.data(), ldb, T(2), C.data(), ldc, ep);
    EXPECT(C == want, "gemm<%s> integer path differs from the reference (ta=%d tb=%d)", tname, c.ta, c.tb);
  }
}

static void test_gemm_validation() {
  float a[4] = {}, b[4] = {}, c[4] = {};
  bool threw = false;
  try {
    gemm<float>(false, false, 2, 2, 2, 1.f, a, 1, b, 2, 0.f, c, 2);  // lda < K
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  EXPECT(threw, "lda smaller than the row did not throw");
  threw = false;
  try {
    gemm<float>(false, false, -1, 2, 2, 1.f, a, 2, b, 2, 0.f, c, 2);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  EXPECT(threw, "negative M did not throw");
}

static void test_beta_zero_ignores_nan() {
  for (Isa isa : available_isas()) {
    set_isa(isa);
    std::vector<float> A(64 * 64, 1.f), B(64 * 64, 1.f), C(64 * 64, NAN);
    gemm<float>(false, false, 64, 64, 64, 1.f, A.data(), 64, B.data(), 64, 0.f, C.data(), 64);
    bool ok = true;
    for (float x : C) ok &= x == 64.f;
    EXPECT(ok, "beta=0 read NaNs from C on %s", isa_name(isa));
  }
}

static void test_isa() {
  auto isas = available_isas();
  EXPECT(!isas.empty() && isas.front() == Isa::Generic, "generic must always be available");
  for (Isa isa : isas) {
    set_isa(isa);
    EXPECT(active_isa() == isa, "set_isa(%s) did not stick", isa_name(isa));
    EXPECT(parse_isa(isa_name(isa)) == isa, "parse_isa round trip");
  }
  bool threw = false;
  try {
    parse_isa("sse9");
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  EXPECT(threw, "parse_isa accepted nonsense");
  set_isa(isas.back());
}

static void test_parallel_for() {
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    EXPECT(get_num_threads() == threads, "get_num_threads after set");
    std::vector<std::atomic<int>> hits(100000);
    parallel_for(0, 100000, 1000, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) hits[size_t(i)]++;
      // Nested regions run inline.
      parallel_for(0, 4, 1, [&](int64_t a, int64_t b) {});
    });
    bool once = true;
    for (auto& h : hits) once &= h.load() == 1;
    EXPECT(once, "parallel_for with %d threads did not cover every index exactly once", threads);
  }
  // Exceptions propagate to the caller and leave the pool usable.
  bool caught = false;
  try {
    parallel_for(0, 1000, 1, [&](int64_t lo, int64_t) {
      if (lo == 0) throw std::runtime_error("boom");
    });
  } catch (const std::runtime_error&) {
    caught = true;
  }
  EXPECT(caught, "exception from a chunk was not rethrown");
  // Concurrent callers: one gets the pool, the others run inline; all results correct.
  std::atomic<int64_t> total{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int r = 0; r < 50; ++r)
        parallel_for(0, 10000, 100, [&](int64_t lo, int64_t hi) { total += hi - lo; });
    });
  for (auto& t : ts) t.join();
  EXPECT(total.load() == 4 * 50 * 10000, "concurrent parallel_for lost work: %lld", (long long)total.load());
  bool threw = false;
  try {
    set_num_threads(0);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  EXPECT(threw, "set_num_threads(0) did not throw");
}

int main() {
  std::printf("ISAs:");
  for (Isa isa : available_isas()) std::printf(" %s", isa_name(isa));
  std::printf(" (active %s), threads %d\n", isa_name(active_isa()), get_num_threads());
  test_isa();
  test_parallel_for();
  test_gemm_validation();
  test_beta_zero_ignores_nan();
  test_gemm_all<float>("float");
  test_gemm_all<double>("double");
  test_gemm_integer<int32_t>("int32");
  test_gemm_integer<int64_t>("int64");
  test_gemm_integer<uint8_t>("uint8");
  return expect_summary();
}
