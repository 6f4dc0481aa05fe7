"""tensorlet.keras.ops against NumPy: each name with Keras 3's signature (positional order and
keyword names as Keras's), the conv family against tests/conv_reference.py, and gradients."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import keras
from tensorlet.keras import ops
from conv_reference import average_pool as np_avg, conv as np_conv, depthwise_conv as np_depthwise, \
    max_pool as np_max
from gradcheck import gradcheck

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((3, 4))
P = rng.uniform(0.5, 2.0, (3, 4))
M = rng.standard_normal((4, 2))
PROB = rng.uniform(0.05, 0.95, (3, 4))
T01 = (rng.random((3, 4)) > 0.5).astype(np.float64)
LABELS = np.array([3, 0, 2])
ONEHOT = np.eye(4)[LABELS]


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


# (name, args, kwargs, NumPy result)
CASES = [
    ("add", (A, B), {}, A + B), ("subtract", (A, B), {}, A - B), ("multiply", (A, B), {}, A * B),
    ("divide", (A, P), {}, A / P), ("true_divide", (A, P), {}, A / P), ("power", (P, B), {}, P ** B),
    ("maximum", (A, B), {}, np.maximum(A, B)), ("minimum", (A, B), {}, np.minimum(A, B)),
    ("matmul", (A, M), {}, A @ M), ("dot", (A, M), {}, A @ M),
    ("equal", (A, A), {}, np.ones_like(A, bool)), ("greater", (A, B), {}, A > B), ("less_equal", (A, B), {}, A <= B),
    ("abs", (A,), {}, np.abs(A)), ("absolute", (A,), {}, np.abs(A)), ("negative", (A,), {}, -A),
    ("exp", (A,), {}, np.exp(A)), ("log", (P,), {}, np.log(P)), ("sqrt", (P,), {}, np.sqrt(P)),
    ("square", (A,), {}, A * A), ("sign", (A,), {}, np.sign(A)), ("sin", (A,), {}, np.sin(A)),
    ("cos", (A,), {}, np.cos(A)), ("tanh", (A,), {}, np.tanh(A)), ("sigmoid", (A,), {}, 1 / (1 + np.exp(-A))),
    ("relu", (A,), {}, np.maximum(A, 0)), ("softmax", (A,), {"axis": 0}, softmax(A, 0)),
    ("log_softmax", (A,), {"axis": -1}, np.log(softmax(A))),
    ("sum", (A,), {"axis": 1, "keepdims": True}, A.sum(1, keepdims=True)), ("sum", (A,), {}, A.sum()),
    ("mean", (A, 0), {}, A.mean(0)), ("max", (A,), {"axis": 1}, A.max(1)), ("min", (A,), {"axis": 0}, A.min(0)),
    ("max", (A,), {"initial": 1.0}, np.max(A, initial=1.0)), ("prod", (P, 1), {}, P.prod(1)),
    ("var", (A,), {"axis": 0}, A.var(0)), ("std", (A,), {}, A.std()),
    ("argmax", (A,), {"axis": 1}, A.argmax(1)), ("argmin", (A,), {"axis": 0, "keepdims": True}, A.argmin(0)[None]),
    ("any", (A > 1,), {"axis": 0}, (A > 1).any(0)), ("all", (A > -3,), {}, (A > -3).all()),
    ("reshape", (A, (2, 6)), {}, A.reshape(2, 6)), ("transpose", (A,), {}, A.T),
    ("transpose", (A[None],), {"axes": (2, 0, 1)}, A[None].transpose(2, 0, 1)),
    ("concatenate", ([A, B],), {"axis": 1}, np.concatenate([A, B], 1)), ("stack", ([A, B],), {}, np.stack([A, B])),
    ("expand_dims", (A, 1), {}, A[:, None]), ("squeeze", (A[None],), {"axis": 0}, A),
    ("where", (A > 0, A, B), {}, np.where(A > 0, A, B)), ("clip", (A, -0.5, 0.5), {}, np.clip(A, -0.5, 0.5)),
    ("take", (A, [2, 0]), {"axis": 1}, A[:, [2, 0]]), ("swapaxes", (A, 0, 1), {}, A.T), ("ravel", (A,), {}, A.ravel()),
    ("broadcast_to", (A[0], (2, 4)), {}, np.broadcast_to(A[0], (2, 4))),
    ("one_hot", (np.array([0, 2, 1, 5]), 3), {}, np.eye(3, dtype=np.float32)[[0, 2, 1, 0]] * np.float32([[1], [1], [1], [0]])),
    ("pad", (A, ((1, 0), (2, 1))), {}, np.pad(A, ((1, 0), (2, 1)))),
    ("cast", (A, "float32"), {}, A.astype(np.float32)),
    ("zeros", ((2, 3),), {}, np.zeros((2, 3), np.float32)), ("ones", ((2,),), {}, np.ones(2, np.float32)),
    ("full", ((2,), 7.0), {}, np.full(2, 7.0, np.float32)), ("eye", (3,), {}, np.eye(3, dtype=np.float32)),
    ("zeros_like", (A,), {}, np.zeros_like(A)), ("ones_like", (A,), {}, np.ones_like(A)),
    ("full_like", (A, 2.0), {}, np.full_like(A, 2.0)), ("arange", (1, 7, 2), {}, np.arange(1, 7, 2)),
    ("softplus", (A * 300,), {}, np.logaddexp(0, A * 300)), ("silu", (A,), {}, A / (1 + np.exp(-A))),
    ("swish", (A,), {}, A / (1 + np.exp(-A))), ("leaky_relu", (A,), {}, np.where(A >= 0, A, 0.2 * A)),
    ("elu", (A,), {"alpha": 0.5}, np.where(A > 0, A, 0.5 * np.expm1(np.minimum(A, 0)))),
    ("relu6", (A * 5,), {}, np.clip(A * 5, 0, 6)), ("hard_sigmoid", (A * 3,), {}, np.clip(A * 3 + 3, 0, 6) / 6),
    ("binary_crossentropy", (T01, PROB), {}, -(T01 * np.log(PROB) + (1 - T01) * np.log(1 - PROB))),
    ("binary_crossentropy", (T01, A), {"from_logits": True},
     -(T01 * np.log(1 / (1 + np.exp(-A))) + (1 - T01) * np.log(1 - 1 / (1 + np.exp(-A))))),
    ("categorical_crossentropy", (ONEHOT, PROB), {}, -np.sum(ONEHOT * np.log(PROB / PROB.sum(-1, keepdims=True)), -1)),
    ("categorical_crossentropy", (ONEHOT, A), {"from_logits": True}, -np.sum(ONEHOT * np.log(softmax(A)), -1)),
    ("sparse_categorical_crossentropy", (LABELS, PROB), {}, -np.log((PROB / PROB.sum(-1, keepdims=True))[[0, 1, 2], LABELS])),
    ("sparse_categorical_crossentropy", (LABELS, A), {"from_logits": True}, -np.log(softmax(A)[[0, 1, 2], LABELS])),
]


@pytest.mark.parametrize("name,args,kwargs,want", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_op_matches_numpy(name, args, kwargs, want):
    got = getattr(ops, name)(*args, **kwargs)
    assert isinstance(got, tl.Tensor)
    got = ops.convert_to_numpy(got)
    assert got.shape == np.shape(want)
    assert got.dtype == np.asarray(want).dtype, (got.dtype, np.asarray(want).dtype)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_namespace_and_conversions():
    assert keras.ops is ops
    assert set(ops.__all__) <= set(dir(ops))
    assert ops.convert_to_tensor(1.5).dtype == np.float32 and ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.convert_to_tensor(np.zeros(2)).dtype == np.float64  # arrays keep their dtype
    assert ops.convert_to_tensor(A, dtype="float32").dtype == np.float32
    assert ops.shape(A) == (3, 4)
    t = ops.convert_to_tensor(A)
    copy = ops.convert_to_numpy(t)
    copy[0, 0] = 99.0
    assert ops.convert_to_numpy(t)[0, 0] == A[0, 0]
    assert [ops.convert_to_numpy(s).shape for s in ops.split(A, 2, axis=1)] == [(3, 2), (3, 2)]
    m, v = ops.moments(A, axes=[0])
    np.testing.assert_allclose(ops.convert_to_numpy(m), A.mean(0), rtol=1e-12)
    np.testing.assert_allclose(ops.convert_to_numpy(v), A.var(0), rtol=1e-12)
    m, v = ops.moments(A, axes=(0, 1), keepdims=True)
    assert m.shape == (1, 1) and np.isclose(ops.convert_to_numpy(v)[0, 0], A.var())
    with pytest.raises(ValueError, match="x1 and x2"):
        ops.where(A > 0)
    with pytest.raises(ValueError, match="mode='constant'"):
        ops.pad(A, 1, mode="reflect")


def test_conv_family_matches_numpy():
    x = rng.standard_normal((2, 7, 6, 3))
    k = rng.standard_normal((3, 3, 3, 4))
    d = rng.standard_normal((3, 3, 3, 2))
    p = rng.standard_normal((1, 1, 6, 5))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.conv(x, k, 2, "same")), np_conv(x, k, (2, 2), "same", (1, 1)),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ops.convert_to_numpy(ops.depthwise_conv(x, d, 1, "valid", None, 2)),
                               np_depthwise(x, d, (1, 1), "valid", (2, 2)), rtol=1e-12, atol=1e-12)
    want = np_depthwise(x, d, (1, 1), "same", (1, 1)) @ p[0, 0]
    np.testing.assert_allclose(ops.convert_to_numpy(ops.separable_conv(x, d, p, padding="same")), want, rtol=1e-12,
                               atol=1e-12)
    xf = np.moveaxis(x, -1, 1)
    np.testing.assert_allclose(ops.convert_to_numpy(ops.separable_conv(xf, d, p, padding="same",
                                                                       data_format="channels_first")),
                               np.moveaxis(want, -1, 1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ops.convert_to_numpy(ops.max_pool(x, 2, 1, "same")), np_max(x, (2, 2), (1, 1), "same")[0])
    np.testing.assert_allclose(ops.convert_to_numpy(ops.average_pool(x, (3, 2), padding="same")),
                               np_avg(x, (3, 2), (3, 2), "same")[0], rtol=1e-12)
    mean, var, beta, gamma = (rng.uniform(0.5, 1.5, 3) for _ in range(4))
    np.testing.assert_allclose(ops.convert_to_numpy(ops.batch_normalization(x, mean, var, -1, beta, gamma, 1e-3)),
                               (x - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-12)


def test_gradients_through_the_namespace():
    x, d, p = rng.standard_normal((1, 5, 5, 2)), rng.standard_normal((2, 2, 2, 2)), rng.standard_normal((1, 1, 4, 3))
    gradcheck(lambda a, b, c: ops.separable_conv(a, b, c, padding="same"), x, d, p)
    gradcheck(lambda a: ops.pad(a, ((0, 0), (1, 2), (0, 1), (0, 0))), x)
    gradcheck(lambda a: ops.moments(a, axes=(0, 1, 2))[1], x)
    for f in (ops.softplus, ops.silu, ops.elu, ops.leaky_relu):
        gradcheck(f, A + 0.01)  # away from the kinks at 0
    gradcheck(lambda p: ops.categorical_crossentropy(ONEHOT, p), PROB)
    gradcheck(lambda p: ops.binary_crossentropy(T01, p), PROB)
    gradcheck(lambda z: ops.binary_crossentropy(T01, z, from_logits=True), A)
