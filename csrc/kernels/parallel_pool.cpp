// The thread pool behind parallel_for: the calling thread plus num_threads - 1 workers.
//
// - One parallel region at a time uses the pool; a region that finds it busy (another Python
//   thread is inside a kernel) runs inline on its own thread, and so does a parallel_for
//   nested in a region. Results never depend on that: callers split work by index only.
// - Workers spin while a region runs and for a bounded time (~50 us) after it, so back-to-back
//   kernels do not pay a futex wake-up, then block on a condition variable. Chunks are claimed
//   dynamically and the caller never waits for a worker that has not started (see ThreadPool).
// - fork(): pthread_atfork handlers keep fork from racing a region or a pool resize; the
//   child drops (leaks, on purpose: its mutexes may be mid-use) the parent's pool, whose
//   threads do not exist there, and builds a fresh one lazily on first use.
// - Thread count: TENSORLET_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs in this
//   process's affinity mask (sched_getaffinity), so taskset and cgroup cpusets are honoured.
// - Subnormals: the caller applies the flush mode (off unless set_flush_denormal) for the
//   region and hands it to the job; each worker applies it before each chunk it runs, so all
//   threads of a region agree and nothing depends on which thread ran what (denormal.h).
#include <pthread.h>
#include <sched.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include "kernels/denormal.h"
#include "kernels/parallel.h"

namespace tl {
namespace {

constexpr auto kSpin = std::chrono::microseconds(50);
constexpr int kMaxThreads = 256;

thread_local bool tls_in_region = false;  // true in workers and in a caller during a region

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Jobs are published in one atomic word, job id | chunk count | next unclaimed chunk, and
// every thread (the caller too) claims chunks by CAS on it. The caller then waits only for
// chunks that were claimed to finish, never for a worker to wake up: on a loaded machine a
// descheduled worker just finds the job done when it runs, instead of stalling the caller.
class ThreadPool {
 public:
  explicit ThreadPool(int workers) {
    threads_.reserve(size_t(workers));
    try {
      for (int w = 0; w < workers; ++w) threads_.emplace_back([this] { worker_loop(); });
    } catch (...) {  // e.g. EAGAIN from pthread_create: stop the ones that started
      shutdown();
      throw;
    }
  }
  ~ThreadPool() { shutdown(); }
  int workers() const { return int(threads_.size()); }

  // Runs fn over `chunks` (< 2^20) pieces of [begin, end) on the workers and the caller.
  void run(int64_t begin, int64_t end, int64_t chunks, bool flush, FunctionRef<void(int64_t, int64_t)> fn) {
    fn_ = &fn;
    flush_ = flush;
    begin_ = begin;
    size_ = end - begin;
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    job_ = (job_ + 1) & kJobMask;
    {
      std::lock_guard<std::mutex> lk(mu_);  // so a worker about to sleep cannot miss it
      state_.store(pack(job_, uint64_t(chunks), 0), std::memory_order_release);
    }
    active_.store(true, std::memory_order_relaxed);
    cv_.notify_all();
    work(job_);
    const auto finished = [&] { return done_.load(std::memory_order_acquire) == chunks; };
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    while (!finished() && std::chrono::steady_clock::now() < deadline) cpu_relax();
    if (!finished()) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, finished);
    }
    fn_ = nullptr;
    active_.store(false, std::memory_order_relaxed);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static constexpr uint64_t kJobMask = (uint64_t(1) << 24) - 1, kField = (uint64_t(1) << 20) - 1;
  static uint64_t pack(uint64_t job, uint64_t chunks, uint64_t next) { return job << 40 | chunks << 20 | next; }
  static uint64_t job_of(uint64_t s) { return s >> 40; }
  static uint64_t chunks_of(uint64_t s) { return (s >> 20) & kField; }
  static uint64_t next_of(uint64_t s) { return s & kField; }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_.store(true, std::memory_order_relaxed);
      state_.store(pack((job_ + 1) & kJobMask, 0, 0), std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  // Claims and runs chunks of job `job` until none is left (or the job is over).
  void work(uint64_t job) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (job_of(s) != job || next_of(s) >= chunks_of(s)) return;
      if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) continue;
      // A claimed chunk keeps the caller waiting, so fn_, begin_, size_ stay this job's.
      const int64_t c = int64_t(next_of(s)), n = int64_t(chunks_of(s));
      kernels::apply_flush_denormal(flush_);  // a no-op (one stmxcsr) unless the mode changed
      try {
        (*fn_)(begin_ + size_ * c / n, begin_ + size_ * (c + 1) / n);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!error_) error_ = std::current_exception();
      }
      if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
        std::lock_guard<std::mutex> lk(mu_);  // pairs with the caller's predicate check
        done_cv_.notify_one();
      }
      s = state_.load(std::memory_order_acquire);
    }
  }

  void worker_loop() {
    tls_in_region = true;
    uint64_t seen = 0;  // job ids start at 1, so a job published before we got here is seen
    const auto has_news = [&] {
      return job_of(state_.load(std::memory_order_acquire)) != seen || stop_.load(std::memory_order_relaxed);
    };
    for (;;) {
      // Spin for the next job while a region is still running (a worker that came too late for
      // a chunk must not fall asleep while the caller works: on a VM a futex wake-up can take
      // longer than a chunk, and a sleeping worker would then miss every later region too) and
      // for kSpin after it, then sleep.
      auto deadline = std::chrono::steady_clock::now() + kSpin;
      for (;;) {
        if (has_news()) break;
        const auto now = std::chrono::steady_clock::now();
        if (active_.load(std::memory_order_relaxed)) deadline = now + kSpin;
        else if (now >= deadline) break;
        cpu_relax();
      }
      if (!has_news()) {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, has_news);
      }
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = job_of(state_.load(std::memory_order_acquire));
      work(seen);
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::atomic<uint64_t> state_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> active_{false};  // a region is running (only steers the workers' spinning)
  uint64_t job_ = 0;  // the caller's last job id (only the region holder touches it)
  // The current job; written by the caller before state_ publishes it.
  const FunctionRef<void(int64_t, int64_t)>* fn_ = nullptr;
  bool flush_ = false;  // the caller's subnormal flush mode for this job
  int64_t begin_ = 0, size_ = 0;
  std::exception_ptr error_;
};

int parse_positive(const char* s) {
  if (!s || !*s) return 0;
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (*end != '\0' || v < 1) return 0;
  return int(std::min<long>(v, kMaxThreads));
}

int default_num_threads() {
  for (const char* var : {"TENSORLET_NUM_THREADS", "OMP_NUM_THREADS"}) {
    const char* s = std::getenv(var);
    if (s && *s) {
      if (int n = parse_positive(s)) return n;
      std::fprintf(stderr, "tensorlet: ignoring %s=%s (expected a positive integer)\n", var, s);
    }
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return std::min(n, kMaxThreads);
  }
  const unsigned hc = std::thread::hardware_concurrency();
  return hc ? int(std::min<unsigned>(hc, kMaxThreads)) : 1;
}

// g_mu guards g_pool and g_num_threads and is held for the whole of a parallel region.
std::mutex g_mu;
ThreadPool* g_pool = nullptr;  // never deleted at exit: joining threads in static destructors hangs
int g_num_threads = 0;         // 0 = not yet read from the environment
std::atomic<int> g_num_threads_cache{0};

int ensure_num_threads_locked() {
  if (g_num_threads == 0) {
    g_num_threads = default_num_threads();
    g_num_threads_cache.store(g_num_threads, std::memory_order_relaxed);
  }
  return g_num_threads;
}

void atfork_prepare() { g_mu.lock(); }
void atfork_parent() { g_mu.unlock(); }
void atfork_child() {
  g_pool = nullptr;  // the parent's workers do not exist here
  g_mu.unlock();
}

struct AtforkRegistration {
  AtforkRegistration() { pthread_atfork(atfork_prepare, atfork_parent, atfork_child); }
} g_atfork_registration;

}  // namespace

int get_num_threads() {
  int n = g_num_threads_cache.load(std::memory_order_relaxed);
  if (n) return n;
  std::lock_guard<std::mutex> lk(g_mu);
  return ensure_num_threads_locked();
}

void set_num_threads(int n) {
  if (n < 1 || n > kMaxThreads)
    throw std::invalid_argument("set_num_threads: expected 1 <= n <= " + std::to_string(kMaxThreads) + ", got " +
                                std::to_string(n));
  if (tls_in_region) throw std::invalid_argument("set_num_threads: cannot be called from inside a parallel region");
  std::lock_guard<std::mutex> lk(g_mu);  // waits for a running region to finish
  g_num_threads = n;
  g_num_threads_cache.store(n, std::memory_order_relaxed);
  if (g_pool && g_pool->workers() != n - 1) {
    delete g_pool;
    g_pool = nullptr;
  }
}

void parallel_for(int64_t begin, int64_t end, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) {
  if (end <= begin) return;
  if (tls_in_region) {  // nested: this thread already runs with the region's flush mode
    fn(begin, end);
    return;
  }
  kernels::DenormalGuard ftz;
  const int64_t n = end - begin;
  const int64_t max_chunks = grain > 0 ? (n + grain - 1) / grain : n;
  if (max_chunks <= 1) {
    fn(begin, end);
    return;
  }
  std::unique_lock<std::mutex> lk(g_mu, std::try_to_lock);
  if (!lk.owns_lock()) {  // another thread's region has the pool
    fn(begin, end);
    return;
  }
  const int threads = ensure_num_threads_locked();
  const int64_t chunks = std::min<int64_t>(max_chunks, threads);
  if (chunks <= 1) {
    lk.unlock();
    fn(begin, end);
    return;
  }
  if (!g_pool) g_pool = new ThreadPool(threads - 1);
  tls_in_region = true;
  try {
    g_pool->run(begin, end, chunks, ftz.flush(), fn);
  } catch (...) {
    tls_in_region = false;
    throw;
  }
  tls_in_region = false;
}

}  // namespace tl
