"""The multi-tensor optimizer step (_core._optim.*_step, what the built-in optimizers call once
per step): Keras 3's formulas on every ISA path, vector tails, many variables, mixed dtypes,
threads, validation before any write, the step counter, and Ctrl-C during a step."""
import signal
import threading
import time

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import optimizers
from test_optimizers import keras_adam, keras_rmsprop, keras_sgd

K = tl._core._optim
SIZES = [0, 1, 15, 17, 1000, 65537]  # empty, scalar tail only, around 16 lanes, > parallel threshold


@pytest.fixture
def restore_threads():
    before = tl.get_num_threads()
    yield
    tl.set_num_threads(before)


# -- Keras 3's formulas (keras/src/optimizers/{sgd,rmsprop,adam}.py) in NumPy, in precision dt --------
def ref_sgd(w, grads, dt, *args):
    return keras_sgd(w.astype(dt), [g.astype(dt) for g in grads], *args)


def ref_rmsprop(w, grads, dt, *args, **kwargs):
    return keras_rmsprop(w.astype(dt), [g.astype(dt) for g in grads], *args, **kwargs)


def ref_adam(w, grads, dt, *args):
    return keras_adam(w.astype(dt), [g.astype(dt) for g in grads], *args)


CASES = [
    ("sgd", lambda: optimizers.SGD(0.1), lambda w, g, dt: ref_sgd(w, g, dt, 0.1)),
    ("sgd-momentum", lambda: optimizers.SGD(0.1, momentum=0.9), lambda w, g, dt: ref_sgd(w, g, dt, 0.1, 0.9)),
    ("sgd-nesterov", lambda: optimizers.SGD(0.1, momentum=0.5, nesterov=True),
     lambda w, g, dt: ref_sgd(w, g, dt, 0.1, 0.5, True)),
    ("rmsprop", lambda: optimizers.RMSprop(0.01), lambda w, g, dt: ref_rmsprop(w, g, dt, 0.01)),
    ("rmsprop-momentum", lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.9),
     lambda w, g, dt: ref_rmsprop(w, g, dt, 0.01, 0.8, 0.9)),
    ("rmsprop-centered", lambda: optimizers.RMSprop(0.01, centered=True),
     lambda w, g, dt: ref_rmsprop(w, g, dt, 0.01, centered=True)),
    ("rmsprop-centered-momentum", lambda: optimizers.RMSprop(0.01, momentum=0.5, epsilon=1e-3, centered=True),
     lambda w, g, dt: ref_rmsprop(w, g, dt, 0.01, momentum=0.5, epsilon=1e-3, centered=True)),
    ("adam", lambda: optimizers.Adam(0.01), lambda w, g, dt: ref_adam(w, g, dt, 0.01)),
    ("adam-custom", lambda: optimizers.Adam(0.05, beta_1=0.5, beta_2=0.9, epsilon=1e-4),
     lambda w, g, dt: ref_adam(w, g, dt, 0.05, 0.5, 0.9, 1e-4)),
]
IDS = [c[0] for c in CASES]
STEPS = 3


def problem(dtype, sizes=SIZES, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    w0 = [rng.normal(size=n).astype(dtype) for n in sizes]
    grads = [[rng.normal(size=n).astype(dtype) for n in sizes] for _ in range(steps)]
    return w0, grads


def run(opt, w0, grads):
    ws = [tl.array(w.copy()) for w in w0]
    for step in grads:
        opt.apply(ws, [tl.array(g) for g in step])
    return [np.asarray(w) for w in ws]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,make,ref", CASES, ids=IDS)
def test_every_size_on_every_isa_matches_the_keras_formula(name, make, ref, dtype, every_isa):
    w0, grads = problem(dtype)
    opt = make()
    got = run(opt, w0, grads)
    assert opt.iterations == STEPS
    for i, (w, g) in enumerate(zip(got, grads[0])):
        steps_i = [step[i] for step in grads]
        assert w.dtype == dtype
        # Bit for bit the same-precision formula: every ISA rounds each operation once (no FMA
        # contraction), like NumPy; Adam's alpha goes through pow, so allow it an ulp.
        same = ref(w0[i], steps_i, dtype)
        if name.startswith("adam"):
            np.testing.assert_array_max_ulp(w, same, maxulp=2)
        else:
            np.testing.assert_array_equal(w, same, err_msg=f"variable {i} ({w.size} elements)")
        # and within a few rounding errors (of the terms' size: w - inc may cancel, and lr <= 0.1
        # keeps every term below |w0| + |w| + sum |g|) of the formula in float64
        want = ref(w0[i].astype(np.float64), [s.astype(np.float64) for s in steps_i], np.float64)
        tol = 1e-12 if dtype == np.float64 else 8 * np.finfo(np.float32).eps
        if name == "adam" and dtype == np.float32:
            tol *= 8  # Keras's float32 alpha: 1 - beta_2^t with beta_2 = 0.999 cast to float32 loses ~4 bits
        scale = np.abs(w0[i]) + np.abs(want) + sum(np.abs(s) for s in steps_i)  # bounds every term
        assert np.all(np.abs(w - want) <= tol * scale), name
        if w.size:
            assert not np.array_equal(w, w0[i])


@pytest.mark.parametrize("name,make,ref", CASES, ids=IDS)
def test_many_variables_and_mixed_dtypes_in_one_step(name, make, ref):
    rng = np.random.default_rng(1)
    sizes = [int(n) for n in rng.integers(0, 300, size=60)] + [70000]
    dtypes = [np.float32 if i % 3 else np.float64 for i in range(len(sizes))]
    w0 = [rng.normal(size=n).astype(dt) for n, dt in zip(sizes, dtypes)]
    grads = [[rng.normal(size=n).astype(dt) for n, dt in zip(sizes, dtypes)] for _ in range(STEPS)]
    got = run(make(), w0, grads)
    for i, w in enumerate(got):
        want = ref(w0[i], [step[i] for step in grads], dtypes[i])
        assert w.dtype == dtypes[i]
        np.testing.assert_array_max_ulp(w, want, maxulp=2)


@pytest.mark.parametrize("name,make,ref", CASES, ids=IDS)
def test_one_and_two_threads_give_identical_bits(name, make, ref, restore_threads):
    w0, grads = problem(np.float32, sizes=[3, 100000, 17, 200003], steps=2)
    results = []
    for n in (1, 2):
        tl.set_num_threads(n)
        results.append(run(make(), w0, grads))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_variables_without_gradient_are_skipped():
    w0, grads = problem(np.float32, sizes=[5, 6, 7], steps=1)
    ws = [tl.array(w.copy()) for w in w0]
    opt = optimizers.RMSprop(0.01)
    opt.apply(ws, [tl.array(grads[0][0]), None, tl.array(grads[0][2])])
    np.testing.assert_array_equal(np.asarray(ws[1]), w0[1])
    np.testing.assert_array_equal(np.asarray(ws[0]), ref_rmsprop(w0[0], [grads[0][0]], np.float32, 0.01))
    assert opt.iterations == 1
    opt.apply(ws, [None, None, None])  # a step with nothing to update still counts
    assert opt.iterations == 2


def test_slot_lists_are_cached_per_variable_list():
    ws = [tl.array(np.ones(4, np.float32)), tl.array(np.ones(3, np.float32))]
    g = [tl.array(np.ones(4, np.float32)), tl.array(np.ones(3, np.float32))]
    opt = optimizers.Adam()
    opt.apply(ws, g)
    plan = opt._plan
    opt.apply(list(ws), g)  # same variables in a new list: same plan, no new lists
    assert opt._plan is plan
    opt.apply(ws[::-1], g[::-1])  # another order: a new plan with the right slots
    assert opt._plan is not plan and len(opt.variables) == 4
    opt.apply(ws[:1], g[:1])
    assert [s.shape for s in opt._plan[1][0]] == [(4,)]


def test_schedule_and_counter():
    w = tl.array(np.zeros(3))
    seen = []
    opt = optimizers.SGD(learning_rate=lambda step: seen.append(step) or 0.5)
    for _ in range(3):
        opt.apply([w], [tl.array(np.ones(3))])
    assert seen == [0, 1, 2] and opt.iterations == 3
    np.testing.assert_array_equal(np.asarray(w), [-1.5] * 3)
    # the kernel sets counter.iterations = step after the update
    class Counter:
        iterations = 0
    c = Counter()
    K.sgd_step([w], [tl.array(np.ones(3))], [], learning_rate=1.0, step=7, counter=c)
    assert c.iterations == 7
    with pytest.raises(ValueError, match="step must be >= 1"):
        K.sgd_step([w], [tl.array(np.ones(3))], [], learning_rate=1.0, counter=c)


# -- validation: every check before the first write ------------------------------------------------
def f32(*shape, value=1.0):
    return tl.array(np.full(shape, value, np.float32))


def assert_untouched(*tensors, value=1.0):
    for t in tensors:
        assert np.all(np.asarray(t) == value)


def test_validation_errors_name_the_index_and_both_shapes():
    p0, p1 = f32(4), f32(2, 3)
    v0, v1 = f32(4), f32(2, 3)
    good = f32(4)
    cases = [
        (lambda: K.rmsprop_step([p0, p1], [good], [v0, v1], [], [], learning_rate=0.1), r"1 gradients for 2 params"),
        (lambda: K.rmsprop_step([p0, p1], [good, f32(3, 2)], [v0, v1], [], [], learning_rate=0.1),
         r"grad 1 has shape \(3,2\) but param 1 has shape \(2,3\)"),
        (lambda: K.rmsprop_step([p0, p1], [good, tl.array(np.ones((2, 3)))], [v0, v1], [], [], learning_rate=0.1),
         r"grad 1 has dtype float64 but param 1 has dtype float32"),
        (lambda: K.rmsprop_step([p0, p1], [good, f32(3, 2).T], [v0, v1], [], [], learning_rate=0.1),
         r"grad 1 must be contiguous"),
        (lambda: K.rmsprop_step([p0, p1], [good, f32(2, 3)], [v0], [], [], learning_rate=0.1),
         r"1 velocity tensors for 2 params"),
        (lambda: K.rmsprop_step([p0, p1], [good, f32(2, 3)], [v0, f32(6)], [], [], learning_rate=0.1),
         r"velocity 1 has shape \(6,\) but param 1 has shape \(2,3\)"),
        (lambda: K.rmsprop_step([p0, p1], [good, f32(2, 3)], [v0, v1], [], [], learning_rate=0.1, momentum=0.5),
         r"0 momentum tensors for 2 params"),
        (lambda: K.rmsprop_step([p0, p1], [good, f32(2, 3)], [v0, v1], [v0, v1], [], learning_rate=0.1),
         r"no momentum tensors expected"),
        (lambda: K.rmsprop_step([p0, p1], [good, p1], [v0, v1], [], [], learning_rate=0.1),
         r"grad 1 shares memory with param 1"),
        (lambda: K.rmsprop_step([p0, p1], [good, f32(2, 3)], [v0, p1], [], [], learning_rate=0.1),
         r"(param 1 and velocity 1|velocity 1 and param 1) share memory"),
        (lambda: K.rmsprop_step([p0, p0], [good, good], [v0, v1.reshape(4 + 2) if False else f32(4)], [], [],
                                learning_rate=0.1), r"param 0 and param 1 share memory"),
        (lambda: K.rmsprop_step([p0, p1], [good, f32(2, 3)], [v0, v1], [], [], learning_rate=-1.0),
         r"learning_rate must be in"),
        (lambda: K.adam_step([p0], [good], [v0], [f32(4)], learning_rate=0.1, step=0), r"step must be >= 1"),
        (lambda: K.sgd_step([tl.array(np.ones(3, np.int64))], [tl.array(np.ones(3, np.int64))], [],
                            learning_rate=0.1), r"param 0 must be float32 or float64"),
    ]
    for call, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            call()
        assert_untouched(p0, p1, v0, v1)


def test_a_bad_last_variable_leaves_every_variable_untouched():
    ws = [f32(100000), f32(3), f32(5)]
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match=r"Adam.apply: .*grad 2 has shape \(4,\) but param 2 has shape \(5,\)"
                                         r".*nothing was updated"):
        opt.apply(ws, [f32(100000), f32(3), f32(4)])
    assert_untouched(*ws)
    assert_untouched(*opt.variables, value=0.0)
    assert opt.iterations == 0
    with pytest.raises(ValueError, match="listed twice"):
        opt.apply([ws[0], ws[0]], [f32(100000), f32(100000)])
    assert_untouched(*ws)
    assert opt.iterations == 0


def test_read_only_parameter_is_rejected_before_any_write():
    ro = np.ones(4, np.float32)
    ro.flags.writeable = False
    p = f32(4)
    with pytest.raises(ValueError):
        K.sgd_step([p, tl.asarray(ro)], [f32(4), f32(4)], [], learning_rate=0.1)
    assert_untouched(p)


# -- Ctrl-C during the built-in step ----------------------------------------------------------------
@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill")
@pytest.mark.parametrize("delay", [0.01, 0.023, 0.037])
def test_ctrl_c_during_a_step_surfaces_after_the_whole_step_and_its_count(delay):
    # The step is one C++ call that also sets `iterations`, so wherever a SIGINT lands (almost
    # always inside the kernel here: it dominates the loop), the parameters and slots are those
    # of exactly `iterations` complete steps.
    sizes = [300000, 7, 300001, 65536]
    rng = np.random.default_rng(0)
    w0 = [rng.normal(size=n).astype(np.float32) for n in sizes]
    g = [rng.normal(size=n).astype(np.float32) for n in sizes]
    ws = [tl.array(w.copy()) for w in w0]
    gs = [tl.array(x) for x in g]
    opt = optimizers.SGD(0.01, momentum=0.9)
    main = threading.main_thread().ident
    timer = threading.Timer(delay, signal.pthread_kill, args=(main, signal.SIGINT))
    deadline = time.monotonic() + 10
    opt.apply(ws, gs)  # one whole step first: on a loaded machine the timer may fire before the loop starts
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            while time.monotonic() < deadline:
                opt.apply(ws, gs)
    finally:
        timer.cancel()
    k = opt.iterations
    assert k >= 1
    for i in range(len(sizes)):
        np.testing.assert_array_equal(np.asarray(ws[i]), ref_sgd(w0[i], [g[i]] * k, np.float32, 0.01, 0.9),
                                      err_msg=f"variable {i} after {k} counted steps")
