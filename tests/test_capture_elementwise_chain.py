"""The elementwise_chain rewrite (csrc/capture/elementwise_chain.cpp): a run of elementwise entries
replays as one entry walking its elements in chunks with the kernels' own loops. Fused replays
equal unfused replays and eager calls bit for bit (odd sizes, below one chunk, float32 / float64,
one and two threads), Dropout's generator advances per replay exactly as eager, the rewrite fires
an exact number of times, and only dead intermediates leave the arena."""

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import optimizers
from tensorlet.capture import CapturedFunction
from tensorlet.layers import Dropout

CHUNK = 4096  # elementwise_chain.cpp's kChunk
MODES = ("eager", "unfused", "fused")


def capture(fn, mode):
    return CapturedFunction(fn, enabled=mode != "eager", fuse=mode == "fused")


def dropout_mlp(mode, batch, hidden, dtype, steps=5):
    """A relu layer, Dropout(0.3), a linear layer, RMSprop; returns the function and everything it
    computed: per step the loss and the dropout output (its mask), the weights and gradients, and
    the generator's next numbers after the steps (it advanced as many draws as eager)."""
    tl.random.seed(42)
    rng = np.random.default_rng(0)
    ws = [tl.array((rng.normal(size=s) * 0.3).astype(dtype), requires_grad=True)
          for s in [(12, hidden), (hidden,), (hidden, 5), (5,)]]
    opt, drop = optimizers.RMSprop(0.01), Dropout(0.3, dtype=np.dtype(dtype).name)

    def step(x, y):
        for w in ws:
            w.grad = None
        h = drop(tl.linear(x, ws[0], ws[1], activation="relu"), training=True)
        loss = tl.mean(tl.sparse_softmax_cross_entropy(tl.linear(h, ws[2], ws[3]), y))
        loss.backward()
        opt.apply(ws)
        return loss, h

    f = capture(step, mode)
    out = []
    for _ in range(steps):
        loss, h = f(rng.normal(size=(batch, 12)).astype(dtype), rng.integers(0, 5, batch))
        out += [np.asarray(loss).copy(), np.asarray(h).copy()]
    out += [np.asarray(w).copy() for w in ws] + [np.asarray(w.grad).copy() for w in ws]
    out.append(np.asarray(tl.random.uniform(size=11, dtype=dtype)))
    return f, out


def tanh_chain(mode, shape, dtype, steps=4):
    """y = tanh(x * w + 1), loss = sum(y * y) with its backward: a forward chain of four entries
    and a backward one (MulBackward0, the gradient's add, TanhBackward0)."""
    rng = np.random.default_rng(1)
    w = tl.array(rng.normal(size=shape).astype(dtype), requires_grad=True)

    def step(x):
        w.grad = None
        y = tl.tanh(x * w + 1.0)
        loss = tl.sum(y * y)
        loss.backward()
        return loss, y

    f = capture(step, mode)
    out = []
    for _ in range(steps):
        loss, y = f(rng.normal(size=shape).astype(dtype))
        out += [np.asarray(loss).copy(), np.asarray(y).copy(), np.asarray(w.grad).copy()]
    return f, out


def masked(mode, shape, dtype, steps=3):
    """Comparisons, a cast, where: one forward chain of six entries."""
    rng = np.random.default_rng(2)

    def predict(x):
        m = (x > 0).astype(dtype)
        return tl.where(x > 0.5, x * m, -x)

    f = capture(predict, mode)
    return f, [np.asarray(f(rng.normal(size=shape).astype(dtype))).copy() for _ in range(steps)]


def uniform_chain(mode, n, dtype, steps=4):
    """u * x + 1 of a fresh uniform draw each call: the draw's values themselves, bit for bit. A
    draw of 3 before it leaves part of a Philox block buffered, so the chained draw starts
    mid-block and its chunks cut blocks (the generator's buffered head, partial blocks)."""
    tl.random.seed(7)
    rng = np.random.default_rng(5)

    def fn(x):
        skip = tl.random.uniform(size=3, dtype=dtype)
        return tl.random.uniform(-1.0, 2.0, size=n, dtype=dtype) * x + 1.0, skip

    f = capture(fn, mode)
    out = [np.asarray(t).copy() for _ in range(steps) for t in f(rng.normal(size=n).astype(dtype))]
    return f, out + [np.asarray(tl.random.uniform(size=5, dtype=dtype))]


DROPOUT = ("uniform+binary_op+binary_op+full+where", "WhereBackward0+MulBackward0")
TANH = ("binary_op+binary_op+tanh+binary_op", "MulBackward0+add+TanhBackward0")
MASKED = ("binary_op+astype+binary_op+binary_op+negative+where",)
CASES = [  # (name, run, args, the fused entries elementwise_chain makes)
    ("dropout-odd-f32", dropout_mlp, (131, 97, np.float32), DROPOUT),  # 12707 elements: 4 chunks, the last odd
    ("dropout-odd-f64", dropout_mlp, (131, 97, np.float64), DROPOUT),
    ("dropout-small-f32", dropout_mlp, (7, 9, np.float32), DROPOUT),  # 63: under one chunk and any SIMD multiple
    ("tanh-f32", tanh_chain, ((45, 101), np.float32), TANH),  # 4545 elements: 2 chunks
    ("tanh-f64-small", tanh_chain, ((3, 5), np.float64), TANH),
    ("masked-f32", masked, ((67, 61), np.float32), MASKED),
    ("masked-f64", masked, ((CHUNK + 1,), np.float64), MASKED),  # one element past a chunk
    ("uniform-f32", uniform_chain, (2 * CHUNK + 13, np.float32), ("uniform+binary_op+binary_op",)),
    ("uniform-f64", uniform_chain, (CHUNK + 7, np.float64), ("uniform+binary_op+binary_op",)),
]


@pytest.mark.parametrize("name,run,args,chains", CASES, ids=[c[0] for c in CASES])
def test_fused_replay_equals_unfused_replay_and_eager_bit_for_bit(name, run, args, chains):
    got = {mode: run(mode, *args) for mode in MODES}
    f, fused = got["fused"]
    assert f.stats()["replays"] >= 1
    assert f.fused["elementwise_chain"] == len(chains)
    assert got["unfused"][0].fused == {}
    for mode in ("unfused", "eager"):
        assert len(got[mode][1]) == len(fused)
        for a, b in zip(fused, got[mode][1]):
            np.testing.assert_array_equal(a, b)
    (plan,), (plain,) = f.plans.values(), got["unfused"][0].plans.values()
    assert sorted(op for op in plan.ops if op in chains) == sorted(chains)
    assert set(chains) <= set(plan.lowered_ops)
    # each fused chain replaces the entries its name lists (and mean_xent_grad's pair becomes one)
    assert len(plain) - len(plan) == sum(op.count("+") for op in chains) + f.fused["mean_xent_grad"]
    assert plan.unshared_bytes < plain.unshared_bytes  # dead intermediates left the arena


def test_dropout_chain_names_and_arena():
    """Dropout's forward (uniform, <, *, zeros, where) and backward (WhereBackward0, MulBackward0)
    each become one entry; the uniform numbers and the scaled input (forward) and the where's
    gradient (backward) live in the chunk scratch, not the arena: 3 buffers of the layer's size."""
    (f, _), (g, _) = dropout_mlp("fused", 64, 40, np.float32, steps=3), dropout_mlp("unfused", 64, 40, np.float32, 3)
    (plan,), (plain,) = f.plans.values(), g.plans.values()
    assert "uniform+binary_op+binary_op+full+where" in plan.ops
    assert "WhereBackward0+MulBackward0" in plan.ops
    assert "uniform" not in plan.ops and "WhereBackward0" not in plan.ops
    assert plain.unshared_bytes - plan.unshared_bytes == 3 * 64 * 40 * 4


def intermediates(mode, keep):
    """h = x * 2; y = tanh(h + 1): `keep` returns h or reads it later in a sum (both keep it live)."""
    def fn(x):
        h = x * 2.0
        y = tl.tanh(h + 1.0)
        if keep == "returned":
            return y, h
        if keep == "read later":
            return y, tl.sum(h)
        return (y,)

    f = capture(fn, mode)
    rng = np.random.default_rng(3)
    outs = [[np.asarray(t).copy() for t in f(rng.normal(size=(31, 71)).astype(np.float32))] for _ in range(4)]
    return f, outs


@pytest.mark.parametrize("keep,dead", [("no", 2), ("returned", 1), ("read later", 1)])
def test_a_live_intermediate_keeps_its_buffer(keep, dead):
    """The chain fires either way, but h, when returned or read by a later entry, is still written
    to its own buffer each replay (checked against NumPy), so one buffer fewer leaves the arena."""
    (f, got), (g, plain_got) = intermediates("fused", keep), intermediates("unfused", keep)
    assert f.fused["elementwise_chain"] == 1
    rng = np.random.default_rng(3)
    for outs, plain in zip(got, plain_got):
        x = rng.normal(size=(31, 71)).astype(np.float32)
        np.testing.assert_allclose(outs[0], np.tanh(x * 2 + 1), rtol=1e-6, atol=1e-6)
        if keep == "returned":
            np.testing.assert_array_equal(outs[1], x * 2)
        if keep == "read later":
            np.testing.assert_allclose(outs[1], (x * 2).sum(dtype=np.float64), rtol=1e-5)
        for a, b in zip(outs, plain):
            np.testing.assert_array_equal(a, b)
    (plan,), (plain,) = f.plans.values(), g.plans.values()
    assert plain.unshared_bytes - plan.unshared_bytes == dead * 31 * 71 * 4


def test_no_chain_where_an_operand_is_broadcast_along_a_row():
    """x * 2 + b with b a row (broadcast along axis 0) is no chunk of x's layout: the add breaks
    the run and each of mul, add, tanh stays alone, so nothing fuses."""
    b = tl.array(np.linspace(-1, 1, 7, dtype=np.float32))
    f = CapturedFunction(lambda x: tl.tanh(x * 2.0 + b))
    rng = np.random.default_rng(4)
    for _ in range(3):
        x = rng.normal(size=(5, 7)).astype(np.float32)
        np.testing.assert_allclose(np.asarray(f(x)), np.tanh(x * 2 + np.asarray(b)), rtol=1e-6, atol=1e-6)
    assert f.fused["elementwise_chain"] == 0
    (plan,) = f.plans.values()
    assert plan.ops == ["binary_op", "binary_op", "tanh"]


def test_dropout_masks_advance_per_replay_as_eager():
    """Each replay draws a new mask, the same as eager's under the same seed, chunk by chunk from the
    middle of the Philox stream (4181 values: the generator keeps a partial block between draws)."""
    (_, fused), (_, eager) = dropout_mlp("fused", 113, 37, np.float32, 6), dropout_mlp("eager", 113, 37, np.float32, 6)
    masks = [h != 0 for h in fused[1:12:2]]
    assert len({m.tobytes() for m in masks}) == 6  # a new mask each step
    assert all(m.mean() < 0.8 for m in masks)  # drops about 0.3 (relu drops more)
    for a, b in zip(fused[1:12:2], eager[1:12:2]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fused[-1], eager[-1])  # the generator's state after the steps


def test_two_threads_give_one_threads_bits():
    """257 x 263 = 67591 elements: the chunks split over the pool (as the separate kernels and the
    uniform fill split their elements); the bits do not depend on the threads."""
    prev = tl.get_num_threads()
    got = {}
    try:
        for threads in (1, 2):
            tl.set_num_threads(threads)
            f, got[threads] = dropout_mlp("fused", 257, 263, np.float32, steps=3)
            assert f.fused["elementwise_chain"] == 2
        _, eager = dropout_mlp("eager", 257, 263, np.float32, steps=3)
    finally:
        tl.set_num_threads(prev)
    for a, b, c in zip(got[1], got[2], eager):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
