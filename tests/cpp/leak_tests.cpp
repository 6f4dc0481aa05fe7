// The core without Python, for LeakSanitizer (issue 7): tensors and views outliving their base,
// autograd graphs built and dropped without backward, backward with and without retain_graph,
// a deep chain's teardown, errors thrown half-way through an op or a backward, and training
// steps of a Dense(relu) -> Dense -> softmax cross-entropy net (linear with its fused epilogue,
// autograd, the multi-tensor Adam / SGD / RMSprop steps) on 1 and 2 threads, and the same step
// captured and replayed (capture/recorder.h) against its eager run. The compiled
// Dense-stack step is covered from Python (tools/leak_check.py's fit, and the suite).
// Built with -DTENSORLET_BUILD_TESTS=ON; tools/sanitize.sh --leaks builds it with ASan and runs
// it with detect_leaks=1 and no suppressions: LSan's exit-time check must find nothing. It
// also checks results, so a scenario that silently does nothing fails.
// Two one-time allocations are never freed, on purpose: the thread pool (kernels/parallel_pool.cpp:
// joining its workers in static destructors hangs) and the default random generator
// (ops/random.cpp: usable during exit). Global pointers keep them reachable, so LSan does not
// count them as leaks; nothing is suppressed for them.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/saved_tensor.h"
#include "capture/recorder.h"
#include "kernels/optim.h"
#include "kernels/parallel.h"
#include "ops/linear.h"
#include "ops/ops.h"
#include "ops/random.h"
#include "optim/step.h"
#include "expect.h"

using namespace tl;


static Tensor randn(const Shape& shape, DType dt = DType::Float32, bool requires_grad = false) {
  static random::LockedGenerator gen(7, 0);
  Tensor t = random::normal(gen, 0.0, 1.0, shape, dt);
  t.set_requires_grad(requires_grad);
  return t;
}

template <class F>
static bool throws(F&& f) {
  try {
    f();
  } catch (const std::exception&) {
    return true;
  }
  return false;
}

static void test_views_outlive_base() {
  std::vector<Tensor> kept;
  for (int i = 0; i < 20; ++i) {
    Tensor base = randn({64, 64}, DType::Float64);
    Tensor v = index(base, {IndexItem::slice(10, 20), IndexItem::slice({}, {}, 3)});
    Tensor t = transpose(base);
    Tensor r = reshape(base, {4096});
    base = Tensor();
    EXPECT(v.shape() == Shape({10, 22}) && t.shape() == Shape({64, 64}) && r.storage() == t.storage());
    kept.push_back(v);
    if (kept.size() > 4) kept.erase(kept.begin());
  }
  Tensor c = concatenate({kept[0], kept[1]}, 0);
  EXPECT(c.shape() == Shape({20, 22}));
  auto parts = split(c, 2, 0);
  EXPECT(parts.size() == 2);
}

static void test_graphs_without_backward() {
  Tensor a = randn({16, 16}, DType::Float32, true);
  for (int i = 0; i < 10; ++i) {
    Tensor h = a;
    for (int j = 0; j < 5; ++j) h = add(mul(relu(matmul(h, a)), Scalar::from_double(0.01)), h);
    Tensor s = sum(h);
    EXPECT(s.grad_fn() != nullptr);
  }
}

static void test_backward_graphs() {
  Tensor a = randn({16, 16}, DType::Float64, true);
  for (int i = 0; i < 5; ++i) {
    Tensor loss = sum(softmax(tanh(matmul(a, a))));
    run_backward(loss, Tensor(), false, false);
    EXPECT(a.grad().defined());
    a.set_grad(Tensor());
  }
  // retain_graph: twice through one graph, then a third time after release raises
  Tensor loss = mean(mul(a, a));
  run_backward(loss, Tensor(), true, false);
  run_backward(loss, Tensor(), false, false);
  EXPECT(throws([&] { run_backward(loss, Tensor(), false, false); }));
  a.set_grad(Tensor());
  // a deep chain (iterative Node teardown) and a shared subexpression
  Tensor h = a;
  for (int i = 0; i < 20000; ++i) h = mul(h, Scalar::from_double(1.0));
  run_backward(sum(add(h, h)), Tensor(), false, false);
  EXPECT(std::fabs(sum(a.grad()).item_double() - 2.0 * 256) < 1e-9);
  a.set_grad(Tensor());
  Tensor deep = a;
  for (int i = 0; i < 20000; ++i) deep = add(deep, Scalar::from_double(1.0));  // never backwarded
}

static void test_double_backward() {
  // create_graph: the gradient has its own graph, which refers back to the leaf
  Tensor x = randn({3}, DType::Float64, true);
  run_backward(sum(mul(mul(x, x), x)), Tensor(), false, true);
  Tensor g = x.grad();  // 3 x^2, with history
  EXPECT(g.grad_fn() != nullptr);
  x.set_grad(Tensor());
  run_backward(sum(g), Tensor(), false, false);  // 6 x
  EXPECT(x.grad().defined());
  x.set_grad(Tensor());
}

// In-place ops on tensors with history (ops/inplace.h), fed from views of the tensor itself:
// the rebased node must not own itself (view -> base -> the base's new grad_fn), and SkipVersionChecks turns the
// saved-tensor version check off for its scope only.
static void test_inplace_autograd() {
  std::weak_ptr<Node> fn;
  {
    Tensor x = randn({4}, DType::Float64, true);
    Tensor z = mul(x, Scalar::from_double(1.0));
    binary_inplace(kernels::BinaryOp::Mul, z, index(z, {IndexItem::slice(0, 1)}));
    index_put_(z, {IndexItem::slice(1, {})}, index(z, {IndexItem::slice({}, 3)}));
    binary_inplace(kernels::BinaryOp::Pow, z, x);  // PowBackward saves z's old value (a copy) and x
    fn = z.grad_fn();
    run_backward(sum(z), Tensor(), false, false);
    EXPECT(x.grad().defined());
  }
  EXPECT(fn.expired());
  Tensor w = randn({3}, DType::Float64, true);
  Tensor loss = sum(mul(w, w));
  {
    NoGradGuard no_grad;
    binary_inplace(kernels::BinaryOp::Sub, w, Tensor::scalar(Scalar::from_double(0.5), DType::Float64));
  }
  EXPECT(w.version() == 1);
  EXPECT(throws([&] { run_backward(loss, Tensor(), true, false); }));
  {
    SkipVersionChecks skip;
    run_backward(loss, Tensor(), false, false);
  }
  EXPECT(w.grad().defined() && !VersionChecks::skipped());
}

static void test_errors() {
  Tensor a = randn({4, 5}, DType::Float64, true);
  Tensor b = randn({3, 5}, DType::Float64, true);
  EXPECT(throws([&] { add(a, b); }));
  EXPECT(throws([&] { matmul(a, b); }));
  EXPECT(throws([&] { concatenate({a, transpose(b)}, 0); }));
  EXPECT(throws([&] { reshape(a, {7}); }));
  EXPECT(throws([&] { index(a, {IndexItem::integer(9)}); }));
  EXPECT(throws([&] { max(Tensor::zeros({0}, DType::Float64)); }));
  EXPECT(throws([&] { Tensor::empty({int64_t(1) << 40, int64_t(1) << 20}, DType::Float64); }));
  EXPECT(throws([&] { sparse_softmax_cross_entropy(a, Tensor::full({4}, Scalar::from_int(9), DType::Int64)); }));
  // backward with a gradient of the wrong shape, after part of the graph has run
  Tensor y = mul(a, Scalar::from_double(2.0));
  EXPECT(throws([&] { run_backward(y, Tensor::zeros({2, 2}, DType::Float64), false, false); }));
  EXPECT(throws([&] { run_backward(y, Tensor(), false, false); }));  // not a single element
}

struct Net {
  std::vector<Tensor> params;                // w1, b1, w2, b2
  std::vector<std::vector<Tensor>> slots;    // three per parameter
  Tensor x, labels, onehot;
  Net() {
    params = {randn({32, 64}, DType::Float32, true), Tensor::zeros({64}, DType::Float32),
              randn({64, 10}, DType::Float32, true), Tensor::zeros({10}, DType::Float32)};
    for (const Tensor& p : params) {
      p.set_requires_grad(true);
      slots.push_back({Tensor::zeros(p.shape(), DType::Float32), Tensor::zeros(p.shape(), DType::Float32),
                       Tensor::zeros(p.shape(), DType::Float32)});
    }
    static random::LockedGenerator gen(11, 0);
    x = random::normal(gen, 0.0, 1.0, {128, 32}, DType::Float32);
    labels = random::randint(gen, 0, 9, {128}, DType::Int64);
    onehot = Tensor::zeros({128, 10}, DType::Float32);
    for (int64_t i = 0; i < 128; ++i) onehot.data<float>()[i * 10 + labels.data<int64_t>()[i]] = 1.0f;
  }
  // The optimizer's view of every parameter with its gradient (the multi-tensor step).
  std::vector<kernels::OptimTensor> optim(const std::vector<Tensor>& grads) {
    std::vector<kernels::OptimTensor> ts(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      ts[i].dtype = DType::Float32;
      ts[i].n = params[i].numel();
      ts[i].param = params[i].data_ptr();
      ts[i].grad = grads[i].data_ptr();
      for (int k = 0; k < 3; ++k) ts[i].slot[k] = slots[i][size_t(k)].data_ptr();
    }
    return ts;
  }
};

static void step(Net& net, int opt, int t, const std::vector<Tensor>& grads) {
  auto ts = net.optim(grads);
  if (opt == 0) kernels::adam_step(ts, 1e-2, 0.9, 0.999, 1e-7, t);
  else if (opt == 1) kernels::sgd_step(ts, 1e-2, 0.9, true);
  else kernels::rmsprop_step(ts, 1e-3, 0.9, 0.5, 1e-7, true);
}

// Dense(relu) -> Dense -> softmax cross-entropy through the autograd graph,
// stepped by optimizer `opt`. Returns the loss of the last step over that of the first.
static double train_generic(int steps, int opt) {
  Net net;
  double first = 0, last = 0;
  for (int s = 0; s < steps; ++s) {
    Tensor h = linear(net.x, net.params[0], net.params[1], LinearActivation::Relu);
    Tensor z = linear(h, net.params[2], net.params[3], LinearActivation::None);
    // the same loss two ways, alternately
    Tensor loss = s % 2 ? mean(softmax_cross_entropy(z, net.onehot)) : mean(sparse_softmax_cross_entropy(z, net.labels));
    run_backward(loss, Tensor(), false, false);
    std::vector<Tensor> grads;
    for (const Tensor& p : net.params) grads.push_back(p.grad());
    step(net, opt, s + 1, grads);
    for (const Tensor& p : net.params) p.set_grad(Tensor());
    last = loss.item_double();
    if (s == 0) first = last;
  }
  return last / first;
}

static void test_training() {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor big = randn({256, 256});  // large enough for the pool's workers to take part
    EXPECT(std::isfinite(sum(matmul(big, big)).item_double()));
    for (int opt = 0; opt < 3; ++opt) {
      const double ratio = train_generic(12, opt);
      std::printf("threads=%d optimizer %d: last/first loss %.3f\n", threads, opt, ratio);
      EXPECT(ratio < 0.9);
    }
  }
}

// A captured training step (capture/recorder.h): recorded once, replayed; N replays must equal N
// eager steps bit for bit (weights, step count), and the plan's arena, graph and closures must be
// released with the plan.
static void test_captured_step() {
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    const Tensor w1_0 = randn({20, 32}), b1_0 = randn({32}), w2_0 = randn({32, 5}), b2_0 = randn({5});
    const Tensor x = randn({16, 20});
    Tensor labels = Tensor::empty({16}, DType::Int64);
    for (int64_t i = 0; i < 16; ++i) labels.data<int64_t>()[i] = (i * 3) % 5;
    auto run = [&](bool captured) {
      std::vector<Tensor> ws = {w1_0.clone(), b1_0.clone(), w2_0.clone(), b2_0.clone()};
      for (Tensor& w : ws) w.set_requires_grad(true);
      std::vector<Tensor> v;
      for (const Tensor& w : ws) v.push_back(Tensor::zeros(w.shape(), w.dtype()));
      auto state = std::make_shared<optim::StepState>(optim::StepState{0.01, 0});
      const Tensor input = x.clone();
      auto step = [&] {
        for (Tensor& w : ws) w.set_grad(Tensor());
        Tensor h = linear(input, ws[0], ws[1], LinearActivation::Relu);
        Tensor loss = mean(sparse_softmax_cross_entropy(linear(h, ws[2], ws[3], LinearActivation::None), labels));
        run_backward(loss, Tensor(), false, false);
        optim::rmsprop_step(ws, std::nullopt, v, {}, {}, 0.9, 0.0, 1e-7, false, state);
      };
      auto plan = std::make_shared<capture::Plan>();
      for (int i = 0; i < 5; ++i) {
        if (!captured || i == 0) {
          step();
        } else if (i == 1) {
          capture::begin_recording(plan.get());
          step();
          capture::end_recording();
        } else {
          plan->replay();
        }
        input.copy_from(add(input, Tensor::scalar(Scalar::from_double(0.25), DType::Float32)));  // new data
      }
      EXPECT(state->iterations == 5);
      if (captured) EXPECT(plan->entries.size() > 10 && plan->arena_bytes() > 0);
      return ws;
    };
    std::vector<Tensor> eager = run(false), replayed = run(true);
    for (size_t i = 0; i < eager.size(); ++i)
      EXPECT(std::memcmp(eager[i].data_ptr(), replayed[i].data_ptr(), eager[i].numel() * 4) == 0, "weight %zu", i);
  }
}

int main() {
  test_views_outlive_base();
  test_graphs_without_backward();
  test_backward_graphs();
  test_double_backward();
  test_inplace_autograd();
  test_errors();
  test_training();
  test_captured_step();
  return expect_summary();
}
