"""Backward of the binary elementwise ops beyond the registry's gradchecks
(tests/test_op_registry.py): tensor and scalar operands, power at 0, where / clip, the
conventions at ties and bounds, mixed precision, random broadcast shapes, second derivatives."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tensorlet as tl
from gradcheck import gradcheck
from op_registry import by_family

def away_from(x, points, margin=0.05):
    """Moves values that are within margin of a kink (e.g. 0 for relu) away from it."""
    for p in points:
        close = np.abs(x - p) < margin
        x = np.where(close, p + np.where(x >= p, margin, -margin) * 2, x)
    return x


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_scalar_operands_both_sides(op):
    rng = np.random.RandomState(1)
    a = np.abs(rng.randn(2, 3)) + 0.5
    fwd = {"+": lambda x, s: x + s, "-": lambda x, s: x - s, "*": lambda x, s: x * s, "/": lambda x, s: x / s,
           "**": lambda x, s: x ** s}[op]
    rev = {"+": lambda x, s: s + x, "-": lambda x, s: s - x, "*": lambda x, s: s * x, "/": lambda x, s: s / x,
           "**": lambda x, s: s ** x}[op]
    for s in [2.5, 3, -1.5, 2]:
        gradcheck(lambda x: fwd(x, s), a)
        if op != "**" or s > 0:
            gradcheck(lambda x: rev(x, s), a)
    gradcheck(lambda x: x ** 0.5, a)  # the sqrt fast path of __pow__


def test_power_gradient_to_the_exponent_and_at_zero_base():
    rng = np.random.RandomState(2)
    a = np.abs(rng.randn(4)) + 0.2
    b = rng.randn(4)
    gradcheck(lambda x, y: x ** y, a, b)
    # 0 ** b with b >= 0: the exponent's gradient is 0 (PyTorch's convention), not nan
    x = tl.array([0.0, 0.0, 2.0], requires_grad=True)
    y = tl.array([2.0, 0.0, 3.0], requires_grad=True)
    (x ** y).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [0.0, 0.0, 12.0])
    np.testing.assert_allclose(np.asarray(y.grad), [0.0, 0.0, 8 * np.log(2.0)])


def test_where_gradients_flow_to_both_branches():
    rng = np.random.RandomState(5)
    c = tl.array(rng.rand(3, 4) > 0.5)
    gradcheck(lambda x, y: tl.where(c, x, y), rng.randn(3, 4), rng.randn(4))
    gradcheck(lambda x, y: tl.where(c, x * y, y), rng.randn(1, 4), rng.randn(3, 1))
    gradcheck(lambda x: tl.where(c, x, 0.0), rng.randn(3, 4))
    gradcheck(lambda y: tl.where(c, 1.0, y), rng.randn(3, 4))


def test_clip_gradients():
    x = np.array([-2.0, -0.7, 0.1, 0.6, 1.9, 3.0])
    gradcheck(lambda t: tl.clip(t, -1.0, 1.0), x)
    gradcheck(lambda t: tl.clip(t, None, 0.5), x)
    gradcheck(lambda t: tl.clip(t, -0.5, None), x)
    gradcheck(lambda t, lo, hi: tl.clip(t, lo, hi), x, np.full(6, -0.3), np.array([2.5]))
    # at the bounds the gradient goes to x (PyTorch's clamp convention)
    t = tl.array([-1.0, 0.0, 1.0], requires_grad=True)
    tl.clip(t, -1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(np.asarray(t.grad), [1.0, 1.0, 1.0])
    lo = tl.array([0.5], requires_grad=True)
    hi = tl.array([0.7], requires_grad=True)
    t2 = tl.array([0.0, 0.6, 1.0], requires_grad=True)
    tl.clip(t2, lo, hi).sum().backward()
    np.testing.assert_array_equal(np.asarray(t2.grad), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(np.asarray(lo.grad), [1.0])
    np.testing.assert_array_equal(np.asarray(hi.grad), [1.0])


def test_maximum_minimum_ties_split_the_gradient():
    a = tl.array([1.0, 2.0, 3.0], requires_grad=True)
    b = tl.array([1.0, 5.0, 0.0], requires_grad=True)
    tl.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(np.asarray(a.grad), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(np.asarray(b.grad), [0.5, 1.0, 0.0])
    a.grad = None
    b.grad = None
    tl.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(np.asarray(a.grad), [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(np.asarray(b.grad), [0.5, 0.0, 1.0])


def test_mixed_precision_gradients_keep_each_inputs_dtype():
    a = tl.array(np.ones(3, np.float32), requires_grad=True)
    b = tl.array(np.full(3, 2.0), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(np.asarray(a.grad), [2.0, 2.0, 2.0])
    c = tl.array(np.ones(3, np.float32), requires_grad=True)
    (tl.exp(c) * 2).sum().backward()  # int scalar is weak: stays float32
    assert c.grad.dtype == np.float32


def test_comparisons_and_integer_ops_record_nothing():
    a = tl.array([1.0, 2.0], requires_grad=True)
    for r in [a > 1.0, a == a, tl.isnan(a), a // 1.0, a % 2.0, tl.sign(a)]:
        assert not r.requires_grad and r.grad_fn is None


def test_float32_training_step_gradients():
    # relu(x W + b) -> sigmoid -> mean, float32 end to end, against NumPy's hand-written backward
    rng = np.random.RandomState(6)
    x = rng.randn(8, 5).astype(np.float32)
    w = rng.randn(5, 3).astype(np.float32)
    b = rng.randn(3).astype(np.float32)
    W, B = tl.array(w, requires_grad=True), tl.array(b, requires_grad=True)
    h = tl.relu(tl.matmul(tl.array(x), W) + B)
    s = tl.sigmoid(h)
    s.sum().backward()
    hn = np.maximum(x @ w + b, 0)
    sn = 1 / (1 + np.exp(-hn))
    gh = sn * (1 - sn) * (hn > 0)
    np.testing.assert_allclose(np.asarray(W.grad), x.T @ gh, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(B.grad), gh.sum(0), rtol=1e-5, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_gradients_over_random_broadcast_shapes(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    sa, sb = shapes.input_shapes
    name = data.draw(st.sampled_from(["add", "subtract", "multiply", "divide", "maximum", "power", "where"]))
    rng = np.random.RandomState(data.draw(st.integers(0, 2**16)))
    a, b = rng.randn(*sa), rng.randn(*sb)
    if name in ("divide", "power"):
        b = np.abs(b) + 0.5
        a = np.abs(a) + 0.5
    if name == "maximum":
        a = a + 0.2 * np.sign(a - np.mean(b))
        b = np.round(b, 1) + 0.05
    if name == "where":
        cond = tl.array(rng.rand(*shapes.result_shape) > 0.5)
        gradcheck(lambda x, y: tl.where(cond, x, y), a, b)
    else:
        gradcheck(getattr(tl, name), a, b)


SECOND = {
    "cube": (lambda t: t ** 3, lambda v: 6 * v),
    "reciprocal": (lambda t: 1.0 / t, lambda v: 2 / v**3),
    "exp_base": (lambda t: 2.5 ** t, lambda v: 2.5**v * np.log(2.5) ** 2),
}

@pytest.mark.parametrize("name", list(SECOND))
def test_second_derivatives_through_create_graph(name):
    f, fpp = SECOND[name]
    x = np.array([0.3, 0.9, 1.7, 2.4])
    t = tl.array(x, requires_grad=True)
    f(t).sum().backward(create_graph=True)
    g = t.grad
    assert g.requires_grad
    t.grad = None
    g.sum().backward()
    np.testing.assert_allclose(np.asarray(t.grad), fpp(x), rtol=1e-10, atol=1e-12)


DIFF_BINARY = [op for op in by_family("binary") if op.differentiable]


@pytest.mark.parametrize("op", DIFF_BINARY, ids=[op.name for op in DIFF_BINARY])
def test_table_ops_second_derivatives_through_create_graph(op):
    """For every differentiable line of ops/binary.def: the create_graph gradients with respect to
    both operands (combined as g_a + 2 g_b, so that each depends on both operands and a swapped
    term shows), differentiated again against finite differences."""
    a, b = op.samples("float64", [((4,), (4,))], np.random.RandomState(14))[0]

    def first_derivatives(x, y):
        if not x.requires_grad:  # gradcheck's finite-difference calls
            x, y = tl.array(np.asarray(x), requires_grad=True), tl.array(np.asarray(y), requires_grad=True)
        ga, gb = tl.autograd.grad(op.fn(x, y).sum(), [x, y], create_graph=True)
        return ga + 2.0 * gb

    g = first_derivatives(tl.array(a, requires_grad=True), tl.array(b, requires_grad=True))
    if g.requires_grad:
        gradcheck(first_derivatives, a, b, rtol=1e-4, atol=1e-6)
    else:  # a piecewise-constant derivative (add, maximum, ...): the second derivative is 0
        np.testing.assert_array_equal(np.asarray(first_derivatives(tl.array(a + 1e-4), tl.array(b))), np.asarray(g))
