"""Version counters, version-checked saved tensors, and in-place ops on tensors with history
(issue 11): every in-place writer bumps `_version`; a backward whose saved tensor was written
since raises instead of using the new values; in-place ops on non-leaf tensors rebase their
history as PyTorch's do, views through their root (CopySlices); stale views get a fresh
history. Gradients are checked against float64 finite differences (tests/gradcheck.py)."""
import numpy as np
import pytest

import tensorlet as tl
from gradcheck import gradcheck

RNG = np.random.default_rng(0)


def grads_of(f, *arrays):
    """Gradients of sum(f(*leaves)) w.r.t. float64 leaves made from `arrays`."""
    leaves = [tl.array(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    tl.sum(f(*leaves)).backward()
    return [np.asarray(t.grad) for t in leaves]


# -- version counters ------------------------------------------------------------------------------
def test_fresh_tensors_are_at_version_zero():
    assert tl.zeros(3)._version == 0
    assert tl.array([1.0, 2.0])._version == 0
    assert (tl.ones(2) + 1)._version == 0
    assert isinstance(tl.zeros(1)._version, int)


@pytest.mark.parametrize("write", [
    lambda t: t.__iadd__(1.0),
    lambda t: t.__isub__(tl.ones(4)),
    lambda t: t.__imul__(2.0),
    lambda t: t.__itruediv__(2.0),
    lambda t: t.__ipow__(2.0),
    lambda t: t.__ifloordiv__(2.0),
    lambda t: t.__imod__(2.0),
    lambda t: t.__setitem__(0, 5.0),
    lambda t: t.__setitem__(tl.array([1, 2]), 5.0),
    lambda t: t.__setitem__(t > 0, 5.0),
    lambda t: t.fill(3.0),
    lambda t: t.fill_(3.0),
    lambda t: tl.take(tl.arange(10.0), tl.array([1, 2, 3, 4]), out=t),
    lambda t: tl.random.shuffle(t),
], ids=["iadd", "isub", "imul", "itruediv", "ipow", "ifloordiv", "imod", "setitem", "setitem_array",
        "setitem_mask", "fill", "fill_", "take_out", "shuffle"])
def test_every_writer_bumps_the_version_once(write):
    t = tl.array([1.0, 2.0, 3.0, 4.0])
    view = t[1:]
    write(t)
    assert t._version == 1
    assert view._version == 1  # views share the storage's counter
    write(t)
    assert t._version == 2


def test_ufunc_out_bumps_and_refuses_views_of_graph_tensors():
    t = tl.zeros(3, dtype="float64")
    tl.add(tl.ones(3), tl.ones(3), out=t)
    tl.multiply(t, 2.0, out=(t,))
    assert t._version == 2
    z = tl.array([1.0, 2.0, 3.0], requires_grad=True) * 1.0
    with tl.no_grad():
        v = z[1:]
    with pytest.raises(RuntimeError, match="not differentiable"):
        tl.add(tl.ones(2), tl.ones(2), out=v)
    assert z._version == 0


def test_conv_checks_its_saved_input():
    x = tl.array(RNG.normal(size=(1, 5, 5, 2)), requires_grad=True)
    k = tl.array(RNG.normal(size=(3, 3, 2, 2)), requires_grad=True)
    y = tl.conv(x, k)
    with tl.no_grad():
        x *= 2.0
    with pytest.raises(RuntimeError, match="ConvolutionBackward0 saved a tensor"):
        tl.sum(y).backward()


def test_writes_through_a_view_bump_the_base():
    t = tl.zeros((2, 3))
    v = t[0]
    v += 1.0
    v[1] = 7.0
    t.T[0] = 2.0
    assert t._version == 3 and v._version == 3


def test_rejected_writes_do_not_bump():
    t = tl.zeros(3)
    with pytest.raises(ValueError):
        t += tl.ones(4)
    with pytest.raises(IndexError):
        t[5] = 1.0
    with pytest.raises(ValueError):
        tl.take(tl.arange(10.0), tl.array([1, 2]), out=t)
    assert t._version == 0


def test_no_grad_writes_bump_too():
    w = tl.array([1.0], requires_grad=True)
    with tl.no_grad():
        w -= 0.5
        w[0] = 2.0
        w.fill_(1.0)
    assert w._version == 3


@pytest.mark.parametrize("make", [
    lambda: tl.optimizers.SGD(0.1),
    lambda: tl.optimizers.SGD(0.1, momentum=0.9),
    lambda: tl.optimizers.RMSprop(0.01),
    lambda: tl.optimizers.Adam(0.01),
], ids=["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_optimizer_steps_bump_params_and_slots(make):
    opt = make()
    w = tl.array([1.0, 2.0], requires_grad=True)
    b = tl.array([0.5], requires_grad=True)
    tl.sum(w * w + b).backward()
    opt.apply([w, b])
    assert w._version == 1 and b._version == 1
    assert all(s._version == 1 for s in opt.variables)
    opt.apply([w, b])
    assert w._version == 2 and all(s._version == 2 for s in opt.variables)


def test_overridden_update_path_bumps():
    class Half(tl.optimizers.SGD):
        def _update(self, var, grad, slots, lr):
            var -= grad * 0.5  # a Python in-place op

    w = tl.array([1.0], requires_grad=True)
    tl.sum(w * w).backward()
    with tl.no_grad():
        Half(0.1).apply([w])
    assert w._version == 1
    tl.optimizers.SGD(0.1)._update(w, w.grad, (), 0.1)  # the single-parameter fused kernel
    assert w._version == 2


def test_an_optimizer_step_between_forward_and_backward_is_caught():
    w = tl.array([1.0, 2.0], requires_grad=True)
    w.grad = tl.ones(2)
    loss = tl.sum(w * w)
    tl.optimizers.SGD(0.1).apply([w])
    with pytest.raises(RuntimeError, match="MulBackward0"):
        loss.backward()


# -- saved tensors ---------------------------------------------------------------------------------
def test_issue_reproducer_mul():
    w = tl.array([1.0], requires_grad=True)
    loss = tl.sum(w * w)
    with tl.no_grad():
        w -= 0.5
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation: MulBackward0 saved a tensor of "
                                           r"shape \(1,\) float64 at version 0, it is now at version 1"):
        loss.backward()
    assert w.grad is None


def test_issue_reproducer_matmul_right_operand():
    a = tl.array(RNG.normal(size=(2, 3)), requires_grad=True)
    v = tl.array(RNG.normal(size=(3, 2)))
    loss = tl.sum(a @ v)
    v *= 10
    with pytest.raises(RuntimeError, match=r"MmBackward0 saved a tensor of shape \(3,2\) float64 at version 0, "
                                           r"it is now at version 1"):
        loss.backward()


def test_saved_tensor_not_needed_by_backward_is_not_checked():
    # y = x * c with c constant: MulBackward needs c only; writing x afterwards is harmless.
    x = tl.array([1.0, 2.0], requires_grad=True)
    c = tl.array([3.0, 4.0])
    y = x * c
    with tl.no_grad():
        x += 1.0
    tl.sum(y).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [3.0, 4.0])


def x23():
    return tl.array(RNG.uniform(0.5, 1.5, size=(2, 3)), requires_grad=True)


# (name, builds (output, tensor to write) from a leaf x, node expected in the message). The write
# is `t += 1` under no_grad; every saving node must notice it. The written tensor is one the
# backward needs (a saved tensor only needed for an input without grad is not checked).
SAVING_OPS = [
    ("mul", lambda x: (x * x, x), "MulBackward0"),
    ("div", lambda x: (tl.ones((2, 3)) / x, x), "DivBackward0"),
    ("pow", lambda x: (x ** 2.0, x), "PowBackward0"),
    ("pow_out", lambda x: (lambda y: (y, y))(x ** 2.0), "PowBackward0"),
    ("maximum", lambda x: (tl.maximum(x, 1.0), x), "MaximumBackward0"),
    ("minimum", lambda x: (tl.minimum(x, 1.0), x), "MinimumBackward0"),
    ("clip", lambda x: (tl.clip(x, 0.7, 1.2), x), "ClampBackward1"),
    ("abs", lambda x: (tl.abs(x), x), "AbsBackward0"),
    ("log", lambda x: (tl.log(x), x), "LogBackward0"),
    ("square", lambda x: (tl.square(x), x), "PowBackward0"),
    ("relu", lambda x: (tl.relu(x), x), "ReluBackward0"),
    ("sin", lambda x: (tl.sin(x), x), "SinBackward0"),
    ("cos", lambda x: (tl.cos(x), x), "CosBackward0"),
    ("exp_out", lambda x: (lambda y: (y, y))(tl.exp(x)), "ExpBackward0"),
    ("sqrt_out", lambda x: (lambda y: (y, y))(tl.sqrt(x)), "SqrtBackward0"),
    ("tanh_out", lambda x: (lambda y: (y, y))(tl.tanh(x)), "TanhBackward0"),
    ("sigmoid_out", lambda x: (lambda y: (y, y))(tl.sigmoid(x)), "SigmoidBackward0"),
    ("softmax_out", lambda x: (lambda y: (y, y))(tl.softmax(x)), "SoftmaxBackward0"),
    ("log_softmax_out", lambda x: (lambda y: (y, y))(tl.log_softmax(x)), "LogSoftmaxBackward0"),
    ("max_in", lambda x: (tl.max(x, axis=1), x), "MaxBackward0"),
    ("min_out", lambda x: (lambda y: (y, y))(tl.min(x, axis=0)), "MinBackward0"),
    ("var", lambda x: (tl.var(x, axis=1), x), "VarBackward0"),
    ("std_out", lambda x: (lambda y: (y, y))(tl.std(x)), "StdBackward0"),
    ("prod", lambda x: (tl.prod(x, axis=1), x), "ProdBackward0"),
    ("matmul", lambda x: (x @ x.T, x), "MmBackward0"),
    ("linear", lambda x: (tl.linear(x, x.T), x), "AddmmBackward0"),
    ("linear_relu_out", lambda x: (lambda y: (y, y))(tl.linear(tl.ones((2, 2)), x, activation="relu")),
     "AddmmBackward0"),
    ("softmax_xent", lambda x: (tl.softmax_cross_entropy(x, tl.ones((2, 3)) / 3), x),
     "SoftmaxCrossEntropyBackward0"),
    ("sparse_xent", lambda x: (tl.sparse_softmax_cross_entropy(x, tl.array([0, 2])), x),
     "SparseSoftmaxCrossEntropyBackward0"),
    ("bce_p", lambda x: (lambda p: (tl.binary_cross_entropy(p, tl.ones((2, 3)) * 0.5), p))(tl.sigmoid(x) * 1.0),
     "BinaryCrossEntropyBackward0"),
]


@pytest.mark.parametrize("build,node", [(b, n) for _, b, n in SAVING_OPS], ids=[c[0] for c in SAVING_OPS])
def test_every_saving_op_checks_versions(build, node):
    x = x23()
    out, written = build(x)
    with tl.no_grad():
        written += 1.0
    with pytest.raises(RuntimeError, match=f"{node} saved a tensor of shape .* at version 0, it is now at version 1"):
        tl.sum(out).backward()


def test_where_checks_its_condition():
    x = x23()
    cond = tl.array([[True, False, True], [False, True, False]])
    y = tl.where(cond, x, 0.0)
    cond[0, 0] = False
    with pytest.raises(RuntimeError, match="WhereBackward0"):
        tl.sum(y).backward()


def test_retain_graph_second_backward_sees_a_write_in_between():
    x = tl.array([1.0, 2.0], requires_grad=True)
    y = tl.exp(x)
    tl.sum(y).backward(retain_graph=True)
    with tl.no_grad():
        y *= 2.0
    with pytest.raises(RuntimeError, match="ExpBackward0"):
        tl.sum(y).backward()


# -- rebasing: in-place ops on non-leaf tensors ----------------------------------------------------
def test_issue_setitem_on_non_leaf():
    x = tl.array([1.0, 2.0, 3.0], requires_grad=True)
    z = x * 1
    z[0] = 0.0
    tl.sum(z).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 1.0, 1.0])
    assert not z.is_leaf and z.grad_fn.name() == "IndexPutBackward0"


def _inplace(op):
    def f(x, y):
        z = x * 1.0
        op(z, y)
        return z * x
    return f


def _iadd(z, y): z += y
def _isub(z, y): z -= y
def _imul(z, y): z *= y
def _idiv(z, y): z /= y
def _ipow(z, y): z **= y


def _iself(z, y):
    z *= z
    z += y


@pytest.mark.parametrize("op", [_iadd, _isub, _imul, _idiv, _ipow, _iself], ids=["add", "sub", "mul", "div", "pow",
                                                                              "self_mul"])
def test_rebased_binary_inplace_matches_finite_differences(op):
    gradcheck(_inplace(op), RNG.uniform(0.5, 1.5, (2, 3)), RNG.uniform(0.5, 1.5, (2, 3)))


def test_rebased_inplace_with_broadcast_and_constant_operand():
    def f(x, y):
        z = tl.exp(x) * 1.0
        z *= y          # y (3,) broadcast over rows
        z += 2.0        # a constant
        z /= tl.array([1.0, 2.0, 4.0])
        return z
    gradcheck(f, RNG.normal(size=(2, 3)), RNG.normal(size=3))


def test_inplace_into_tensor_without_grad_takes_the_sources_history():
    def f(y):
        z = tl.zeros((2, 3), dtype="float64")
        z += y
        z *= y
        return z
    gradcheck(f, RNG.normal(size=(2, 3)))
    y = tl.array([1.0], requires_grad=True)
    z = tl.zeros(1, dtype="float64")
    z += y
    assert z.requires_grad and not z.is_leaf


def test_rebased_float32_target_with_float64_source():
    x = tl.array(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = tl.array([3.0, 4.0], requires_grad=True)
    z = x * 1.0
    z *= y
    assert z.dtype == np.float32
    tl.sum(z).backward()
    np.testing.assert_allclose(np.asarray(x.grad), [3.0, 4.0])
    np.testing.assert_allclose(np.asarray(y.grad), [1.0, 2.0])
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64


# (index, value made from v (3,)): every kind of index, values broadcast or not.
SETITEM_CASES = {
    "int": (1, lambda v: v),                               # a row
    "element": ((1, 2), lambda v: v[0]),                   # one element, 0-d value
    "slice_broadcast": (slice(0, 2), lambda v: v),         # (3,) broadcast into (2, 3)
    "column": ((slice(None), 1), lambda v: v),
    "advanced": (([0, 1], [2, 0]), lambda v: v[:2]),
    "mask": ("mask", lambda v: tl.sum(v)),                 # a 0-d value for a mask
    "ellipsis_newaxis": ((Ellipsis, None), lambda v: v[:1]),
}


@pytest.mark.parametrize("case", list(SETITEM_CASES))
def test_setitem_value_with_history_matches_finite_differences(case):
    index, value = SETITEM_CASES[case]

    def f(x, v):
        z = x * 2.0
        z[z.detach() > 1.0 if index == "mask" else index] = value(v * 3.0)
        return z * x
    gradcheck(f, RNG.uniform(0.1, 1.0, (3, 3)), RNG.normal(size=3))


def test_setitem_broadcast_value_with_leading_ones():
    def f(x, v):
        z = x * 1.0
        z[0] = v  # v (1, 3) into z[0] (3,)
        return z
    gradcheck(f, RNG.normal(size=(2, 3)), RNG.normal(size=(1, 3)))


def test_setitem_repeated_index_with_value_requiring_grad_raises():
    x = tl.array(np.ones(3), requires_grad=True)
    v = tl.array([1.0, 2.0], requires_grad=True)
    z = x * 1.0
    with pytest.raises(RuntimeError, match="repeats an element"):
        z[tl.array([0, 0])] = v
    assert z._version == 0  # refused before writing
    z[tl.array([0, 0])] = v.detach()  # no gradient to the value: fine
    tl.sum(z).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 1.0, 1.0])


def test_setitem_from_an_overlapping_view_of_itself():
    def f(x):
        z = x * 1.0
        z[1:] = z[:-1]
        return z * x
    gradcheck(f, RNG.normal(size=5))


def test_fill_on_non_leaf_sends_zero_gradient():
    x = tl.array([1.0, 2.0], requires_grad=True)
    z = x * 3.0
    z.fill_(5.0)
    assert z.grad_fn.name() == "FillBackward0"
    tl.sum(z * x).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [5.0, 5.0])  # only the later use of x


def test_inplace_on_leaf_requiring_grad_raises():
    w = tl.array([1.0, 2.0], requires_grad=True)
    for op in (lambda: w.__iadd__(1.0), lambda: w.__setitem__(0, 1.0), lambda: w.fill_(0.0)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            op()
    assert w._version == 0
    with tl.no_grad():
        w += 1.0
    assert w.is_leaf and w.requires_grad


def test_non_differentiable_inplace_ops_on_graph_tensors_raise():
    x = tl.array([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    z = x * 1.0
    for op, name in ((lambda: z.__ifloordiv__(2.0), "floor_divide"), (lambda: z.__imod__(2.0), "remainder"),
                     (lambda: tl.random.shuffle(z), "shuffle"),
                     (lambda: tl.take(x, tl.array([0, 1, 2, 3]), out=tl.zeros(4, dtype="float64")), "take")):
        with pytest.raises(RuntimeError, match=f"{name}.*not differentiable"):
            op()
    assert z._version == 0
    tl.sum(z).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), np.ones(4))


# -- views -----------------------------------------------------------------------------------------
def test_issue_inplace_on_view_of_graph_tensor():
    x = tl.array([1.0, 2.0, 3.0], requires_grad=True)
    z = x * 1.0
    v = z[0]
    v *= 3.0
    tl.sum(z).backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [3.0, 1.0, 1.0])
    assert z.grad_fn.name() == "CopySlices"


# In-place ops on views of a tensor with history, each against finite differences.
def _view_iadd_py(z, y): z[0] += y[0]              # Python: __getitem__, __iadd__ on the view, __setitem__
def _view_imul(z, y): v = z[1:]; v *= y[1:]
def _view_self(z, y): v = z[:2]; v *= v; z *= y
def _view_of_view(z, y): v = z[1:][::-1]; v -= y[:2] * 2.0
def _view_reshape_setitem(z, y): z.reshape((3, 1))[1] = y[2] * y[0]
def _view_transpose_fill(z, y): z[None].T[2].fill_(0.5); z *= y
def _view_then_used(z, y):
    v = z[1:]
    v /= y[0]
    z += v.sum()  # the view's history after the write: its elements of z's new history


@pytest.mark.parametrize("op", [_view_iadd_py, _view_imul, _view_self, _view_of_view, _view_reshape_setitem,
                                _view_transpose_fill, _view_then_used])
def test_inplace_on_views_matches_finite_differences(op):
    def f(x, y):
        z = x * 1.0
        op(z, y)
        return z * x
    gradcheck(f, RNG.uniform(0.5, 1.5, 3), RNG.uniform(0.5, 1.5, 3))


def test_view_write_on_2d_root_and_a_view_made_under_no_grad():
    def f(x, y):
        z = x * 2.0  # (exp would save its output, which the write changes: an error, as PyTorch)
        with tl.no_grad():
            col = z[:, 1]  # no history of its own
        col *= y           # still part of z, which has history
        return z
    gradcheck(f, RNG.normal(size=(3, 3)), RNG.normal(size=3))


def test_the_explicit_spelling_for_a_view_works():
    def f(x):
        z = x * 1.0
        z[0] = z[0] * 3.0 + 1.0
        return z * x
    gradcheck(f, RNG.normal(size=3))


def test_view_of_leaf_requiring_grad_raises_like_pytorch():
    w = tl.array([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w[0:1] += 1.0
    v = w[0:1]
    with tl.no_grad():
        v += 1.0  # no_grad writes through views are fine (as PyTorch)
    np.testing.assert_array_equal(np.asarray(w.detach()), [2.0, 2.0])


def test_view_of_plain_tensor_with_a_source_requiring_grad():
    def f(y):
        z = tl.zeros(3, dtype="float64")
        v = z[1:3]
        v += y[:2] * y[2]
        return z
    gradcheck(f, RNG.normal(size=3))


def test_view_made_before_the_base_was_rebased_gets_a_fresh_history():
    # As PyTorch: v's history is regenerated from z's current one when v is next used.
    x = tl.array([1.0, 2.0, 3.0], requires_grad=True)
    z = x * 1.0
    v = z[:2]
    z *= 2.0  # z's history changes; v's old one would give d v/d x = 1
    tl.sum(v * 1.0).backward(retain_graph=True)
    np.testing.assert_array_equal(np.asarray(x.grad), [2.0, 2.0, 0.0])
    x.grad = None
    u = z[1:]
    z += x
    u.backward(tl.ones(2))  # a stale view as the root of backward
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 3.0, 3.0])


def test_view_of_plain_tensor_that_later_gets_history():
    z = tl.zeros(3, dtype="float64")
    v = z[:2]
    assert not v.requires_grad
    y = tl.array([1.5], requires_grad=True)
    z[0] = (y * 2.0)[0]
    out = tl.sum(v * y)  # v = [2y, 0]: d/dy sum(v * y) = 4y
    assert out.requires_grad
    out.backward()
    np.testing.assert_allclose(np.asarray(y.grad), [6.0])


def test_views_returned_by_composite_ops_are_not_views():
    # matmul of a vector reshapes its own product: the result is a fresh tensor, in-place is fine
    x = tl.array(RNG.normal(size=3), requires_grad=True)
    m = tl.array(RNG.normal(size=(3, 2)))
    y = x @ m
    y *= 2.0
    tl.sum(y).backward()
    np.testing.assert_allclose(np.asarray(x.grad), 2.0 * np.asarray(m).sum(axis=1))
