"""pickle, copy and deepcopy of tensors (dtype, shape, bytes, requires_grad; .grad in deepcopy;
only plain values in the pickle) and of compiled, trained models (same predictions, independent
training afterwards)."""
import copy
import pickle
import pickletools

import numpy as np
import pytest

import tensorlet as tl

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3), (2, 0, 4)])
def test_pickle_round_trip(dtype, shape):
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 3).astype(dtype)
    t = tl.array(a)
    for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
        r = pickle.loads(pickle.dumps(t, protocol=proto))
        assert r.dtype == a.dtype and r.shape == a.shape and not r.requires_grad
        np.testing.assert_array_equal(np.asarray(r), a)


def test_pickle_of_views_is_their_own_contiguous_data():
    base = tl.array(np.arange(24.0).reshape(4, 6))
    view = tl.transpose(base)[1:3, ::2]
    blob = pickle.dumps(view)
    r = pickle.loads(blob)
    np.testing.assert_array_equal(np.asarray(r), np.asarray(view))
    assert r.is_contiguous
    assert len(blob) < 24 * 8  # not the whole base buffer
    bcast = tl.broadcast_to(tl.array([1.0, 2.0]), (1000, 2))
    np.testing.assert_array_equal(np.asarray(pickle.loads(pickle.dumps(bcast))), np.asarray(bcast))


def test_pickle_keeps_requires_grad_and_makes_a_leaf():
    x = tl.array([1.0, 2.0], requires_grad=True)
    x.grad = tl.array([5.0, 5.0])
    r = pickle.loads(pickle.dumps(x))
    assert r.requires_grad and r.is_leaf and r.grad is None  # .grad is not pickled, as PyTorch
    y = pickle.loads(pickle.dumps(x * 3))
    assert y.is_leaf and y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(np.asarray(y), [3.0, 6.0])


def test_pickle_holds_only_plain_values():
    blob = pickle.dumps(tl.array([1.0, 2.0], requires_grad=True), protocol=3)
    globals_used = [arg for op, arg, _ in pickletools.genops(blob) if op.name in ("GLOBAL", "STACK_GLOBAL")]
    assert globals_used == ["tensorlet._pickle rebuild_tensor"]
    assert b"numpy" not in blob


@pytest.mark.parametrize("args, exc, match", [
    ((b"\x00" * 7, "float64", (1,)), ValueError, "7 bytes"),
    ((b"\x00" * 8, "object", (1,)), TypeError, "unsupported dtype"),
    ((b"\x00" * 8, "float64", (-1,)), ValueError, "negative"),
    ((b"\x02", "bool", (1,)), ValueError, "bool"),
    ((b"\x00" * 4, "int32", (1,), True), TypeError, "only float"),
    ((b"", "float64", (2 ** 62, 2 ** 62)), MemoryError, "too large"),
])
def test_rebuild_validates_its_arguments(args, exc, match):
    from tensorlet._pickle import rebuild_tensor

    with pytest.raises(exc, match=match):
        rebuild_tensor(*args)


def test_attributes_set_on_a_tensor_survive():
    t = tl.array([1.0])
    t.label = "bias"
    assert pickle.loads(pickle.dumps(t)).label == "bias"
    assert copy.deepcopy(t).label == "bias"


def test_copy_is_an_independent_leaf():
    x = tl.array([1.0, 2.0], requires_grad=True)
    c = copy.copy(x)
    assert c is not x and c.requires_grad and c.is_leaf
    c.requires_grad = False
    with tl.no_grad():
        c[0] = 9.0
    assert float(x[0].item()) == 1.0


def test_deepcopy_copies_data_requires_grad_and_grad():
    x = tl.array([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    d = copy.deepcopy(x)
    assert d.requires_grad and d.is_leaf
    np.testing.assert_array_equal(np.asarray(d.grad), [2.0, 4.0])
    with tl.no_grad():
        d[0] = 7.0
        d.grad[0] = 7.0
    assert float(x[0].item()) == 1.0 and float(x.grad[0].item()) == 2.0
    pair = copy.deepcopy([x, x])
    assert pair[0] is pair[1]  # the memo keeps shared tensors shared


def test_deepcopy_of_a_non_leaf_raises():
    x = tl.array([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)
    np.testing.assert_array_equal(np.asarray(copy.deepcopy((x * 2).detach())), [2.0])


# -- models ---------------------------------------------------------------------------------------------
def _trained_model():
    rng = np.random.RandomState(0)
    x = rng.rand(96, 6).astype("float32")
    y = rng.randint(0, 3, 96)
    tl.random.seed(1)
    m = tl.models.Sequential([tl.layers.Dense(16, activation="relu"), tl.layers.Dense(3, activation="softmax")])
    m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=2, batch_size=32, verbose=0)
    m.predict(x, verbose=0)  # fills the compiled predict cache
    m.evaluate(x, y, verbose=0)
    return m, x, y


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_model_copy_predicts_the_same_and_trains_independently(how):
    m, x, y = _trained_model()
    before = m.predict(x, verbose=0)
    m2 = copy.deepcopy(m) if how == "deepcopy" else pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict(x, verbose=0), before)
    assert m2.evaluate(x, y, verbose=0) == m.evaluate(x, y, verbose=0)
    assert m2.optimizer.iterations == m.optimizer.iterations

    m2.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    np.testing.assert_array_equal(m.predict(x, verbose=0), before)  # the original is untouched
    assert not np.array_equal(m2.predict(x, verbose=0), before)

    # the same step on the original gives the same weights: the optimizer state (RMSprop's
    # averages, the step count) came along, and belongs to the copy's own weights
    m.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    for w1, w2 in zip(m.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(w1, w2)
    m2_weights = {id(w) for w in m2.trainable_weights}
    assert all(id(v) in m2_weights for v in m2.optimizer._variables)
