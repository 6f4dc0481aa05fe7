"""__getitem__ / __setitem__ / iteration against NumPy: views vs copies, errors, gradients."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import tensorlet as tl
from conftest import assert_tensor_equal
from gradcheck import gradcheck

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

shapes = st.lists(st.integers(0, 5), min_size=0, max_size=4).map(tuple)


def outcome(f):
    """(result, None) or (None, exception class) — to compare NumPy's and our behaviour."""
    try:
        return f(), None
    except (IndexError, ValueError, TypeError) as e:
        return None, type(e)


def check_same(x_np, key, t=None):
    t = tl.array(x_np) if t is None else t
    want, werr = outcome(lambda: x_np[key])
    got, gerr = outcome(lambda: t[key])
    if werr is not None:
        assert gerr is not None and issubclass(gerr, werr), (key, werr, gerr)
        return None
    assert gerr is None, (key, gerr)
    assert_tensor_equal(got, want)
    return got


@st.composite
def basic_keys(draw, shape):
    """A random basic index for `shape`: ints (sometimes out of range), slices, None, one `...`."""
    items, dim, used_ellipsis = [], 0, False
    for _ in range(draw(st.integers(0, len(shape) + 2))):
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis"]))
        size = shape[dim] if dim < len(shape) else 3
        if kind == "int":
            items.append(draw(st.integers(-size - 1, size)))
            dim += 1
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-size - 3, size + 3))
            step = st.one_of(st.none(), st.integers(-3, 3).filter(lambda s: s != 0))
            items.append(slice(draw(bound), draw(bound), draw(step)))
            dim += 1
        elif kind == "none":
            items.append(None)
        elif not used_ellipsis:
            items.append(Ellipsis)
            used_ellipsis = True
    if len(items) == 1 and draw(st.booleans()):
        return items[0]
    return tuple(items)


@FAST
@given(st.data())
def test_basic_indexing_matches_numpy_and_is_a_view(data):
    shape = data.draw(shapes)
    key = data.draw(basic_keys(shape))
    x = np.asarray(np.random.randn(*shape))
    t = tl.array(x)
    got = check_same(x, key, t)
    if got is not None and got.size > 0:
        assert np.shares_memory(np.asarray(got), np.asarray(t))
        # Writes through the view reach the base tensor.
        got[...] = 123.0
        assert np.all(np.asarray(t)[key] == 123.0)


@FAST
@given(st.data())
def test_basic_indexing_of_non_contiguous_input(data):
    shape = data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple))
    base = np.random.randn(*[2 * d for d in shape])
    x = base[tuple(slice(None, None, -2) for _ in shape)].T  # negative strides, transposed
    t = tl.asarray(x)
    assert not t.is_contiguous or x.size <= 1
    check_same(x, data.draw(basic_keys(x.shape)), t)


def test_slice_clamping_and_negative_steps():
    x = np.arange(10)
    t = tl.array(x)
    for key in [slice(-100, 100), slice(100, -100, -1), slice(None, None, -1), slice(8, 2, -3), slice(-3, None),
                slice(5, 5), slice(2, -2, 4), slice(None, -11, -1), slice(2**70, None), slice(None, None, -2**70)]:
        assert_tensor_equal(t[key], x[key])
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        t[::0]
    m = np.arange(12.0).reshape(3, 4)
    for key in [(slice(None, None, 2**62), slice(None, None, -2**62)), (slice(1, None, 2**63 - 1), 0)]:
        assert_tensor_equal(tl.array(m)[key], m[key])


def test_integer_errors_match_numpy():
    t = tl.array(np.zeros((3, 4)))
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 3"):
        t[5]
    with pytest.raises(IndexError, match="index -5 is out of bounds for axis 1 with size 4"):
        t[0, -5]
    with pytest.raises(IndexError, match="too many indices for array: array is 2-dimensional, but 3 were indexed"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        t[..., ...]
    with pytest.raises(IndexError, match="too many indices"):
        tl.array(3.0)[0]
    with pytest.raises(IndexError):
        t[2**70]


@pytest.mark.parametrize("bad", [1.0, "a", b"a", 1j, object(), np.float64(1.0), [1.0], np.array([1.5])])
def test_bad_index_types_are_type_and_index_errors(bad):
    t = tl.array(np.zeros((3, 4)))
    with pytest.raises(TypeError):
        t[bad]
    with pytest.raises(IndexError):  # NumPy raises IndexError here; ours is both
        t[bad]


def test_index_kinds_agree():
    x = np.arange(24).reshape(4, 6)
    t = tl.array(x)
    for key in [np.int64(2), np.int32(-1), np.array([1, 3], np.int32), np.array([1, 3], np.uint8),
                np.array([1, 3], np.int16), tl.array([3, 0]), [2, 2, -1], [], np.array(2), tl.array(1),
                (tl.array([0, 1]), tl.array([[2], [3]]))]:
        np_key = tuple(np.asarray(k) for k in key) if isinstance(key, tuple) else key
        assert_tensor_equal(t[key], x[np.asarray(np_key) if isinstance(np_key, tl.Tensor) else np_key])


@st.composite
def advanced_keys(draw, shape):
    """Mixes integer arrays (broadcastable shapes), ints, slices and None at random positions."""
    nd = len(shape)
    n_index = draw(st.integers(1, nd))
    bshape = draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    key, dim = [], 0
    for _ in range(n_index):
        size = shape[dim]
        kind = draw(st.sampled_from(["array", "array", "int", "slice", "none"]))
        if kind == "array":
            # broadcastable to bshape: drop some leading dims, set some to 1
            s = list(bshape[draw(st.integers(0, len(bshape))):])
            s = [1 if draw(st.booleans()) else d for d in s]
            key.append(np.random.randint(-size, size, size=s) if size > 0 else np.zeros(s, np.int64))
            dim += 1
        elif kind == "int":
            key.append(draw(st.integers(-size, size - 1)) if size > 0 else 0)
            dim += 1
        elif kind == "slice":
            key.append(slice(draw(st.integers(-4, 4)), None, draw(st.sampled_from([1, 2, -1]))))
            dim += 1
        else:
            key.append(None)
    return tuple(key)


@FAST
@given(st.data())
def test_advanced_indexing_matches_numpy_and_copies(data):
    shape = data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=4).map(tuple))
    key = data.draw(advanced_keys(shape))
    x = np.asarray(np.random.randn(*shape))
    t = tl.array(x)
    got = check_same(x, key, t)
    if got is not None and got.size > 0 and any(isinstance(k, np.ndarray) for k in key):
        assert not np.shares_memory(np.asarray(got), np.asarray(t))
    # the same on a non-contiguous (transposed) input
    xt = np.asarray(np.random.randn(*shape[::-1])).T
    check_same(xt, key, tl.asarray(xt))


def test_advanced_dims_placement():
    x = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    t = tl.array(x)
    i, j = np.array([[0, 1]]), np.array([[1], [2]])
    for key in [(slice(None), i, j), (slice(None), i, slice(None), j), (i, slice(None), j), (0, slice(None), [0, 1]),
                (slice(None), 0, [0, 1]), (Ellipsis, i), (None, slice(None), i, None, j), ([0, 1], [1, 2], [3, 0]),
                (slice(None, None, -1), [0, 2], 1)]:
        got = check_same(x, key, t)
        assert got is not None, key


def test_advanced_errors():
    t = tl.array(np.zeros((3, 4)))
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 1 with size 4"):
        t[:, [0, 5]]
    with pytest.raises(IndexError, match=r"could not be broadcast together with shapes \(2,\) \(3,\)"):
        t[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        tl.array(np.zeros((3, 0)))[[3]]


@FAST
@given(st.data())
def test_boolean_masks_match_numpy(data):
    shape = data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple))
    x = np.asarray(np.random.randn(*shape))
    k = data.draw(st.integers(1, len(shape)))
    start = data.draw(st.integers(0, len(shape) - k))
    mask = np.random.rand(*shape[start:start + k]) > 0.5
    key = (slice(None),) * start + (mask,)
    got = check_same(x, key)
    assert got is not None
    check_same(x, key + (None,) * data.draw(st.integers(0, 1)))
    assert_tensor_equal(tl.array(x)[tl.array(x > 0)], x[x > 0])


def test_boolean_mask_special_cases():
    x = np.arange(12.0).reshape(3, 4)
    t = tl.array(x)
    for key in [True, False, np.True_, (Ellipsis, True), (0, [True, False, True, True]), ([True, False, True], 1),
                ([True, False, True], slice(None), None), ([True, False, True], [0, 3]), np.zeros((3, 4), bool)]:
        check_same(x, key, t)
    with pytest.raises(IndexError, match="boolean index did not match indexed array along axis 0; size of axis is 3 "
                                         "but size of corresponding boolean axis is 2"):
        t[[True, False]]


def test_iteration_and_len():
    x = np.arange(6.0).reshape(3, 2)
    t = tl.array(x)
    rows = list(t)
    assert len(rows) == len(t) == 3
    for r, e in zip(rows, x):
        assert_tensor_equal(r, e)
    assert np.shares_memory(np.asarray(rows[1]), np.asarray(t))
    assert [float(v) for v in tl.array([1.0, 2.0])] == [1.0, 2.0]
    assert list(tl.array(np.zeros((0, 3)))) == []
    with pytest.raises(TypeError):
        iter(tl.array(1.0))


# ---------------------------------------------------------------------------------- setitem

def setitem_both(x, key, value, t_value=None):
    want = x.copy()
    werr = outcome(lambda: want.__setitem__(key, value))[1]
    t = tl.array(x)
    gerr = outcome(lambda: t.__setitem__(key, value if t_value is None else t_value))[1]
    if werr is not None:
        assert gerr is not None and issubclass(gerr, werr), (key, werr, gerr)
        return
    assert gerr is None, (key, gerr)
    assert_tensor_equal(t, want)


@FAST
@given(st.data())
def test_setitem_matches_numpy(data):
    shape = data.draw(st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple))
    kind = data.draw(st.sampled_from(["basic", "advanced", "mask"]))
    if kind == "basic":
        key = data.draw(basic_keys(shape))
    elif kind == "advanced":
        key = data.draw(advanced_keys(shape))
    else:
        key = np.random.rand(*shape) > 0.5
    x = np.asarray(np.random.randn(*shape))
    try:
        target = x[key].shape
    except (IndexError, ValueError, TypeError):
        target = ()
    # values: scalar, full-shape array, broadcast trailing dims, a list, a tensor
    vshape = data.draw(st.sampled_from([target, target[1:], target[-1:], (1,) + target, ()]))
    v = np.asarray(np.random.randn(*vshape))
    setitem_both(x, key, v)
    setitem_both(x, key, v, tl.array(v))
    setitem_both(x, key, 2.5)
    if v.ndim <= len(target):  # NumPy refuses nested lists deeper than the target; we broadcast them
        setitem_both(x, key, v.tolist())


def test_setitem_broadcast_and_errors():
    x = np.zeros((4, 3))
    setitem_both(x, slice(0, 2), [1.0, 2.0, 3.0])
    setitem_both(x, 0, np.ones((1, 1, 3)))
    setitem_both(x, [0, 1], np.ones((3, 3)))
    setitem_both(x, slice(0, 2), np.ones(4))
    t = tl.array(x)
    with pytest.raises(ValueError, match=r"could not broadcast input array from shape \(4,\) into shape \(2,3\)"):
        t[0:2] = np.ones(4)
    with pytest.raises(ValueError, match=r"value array of shape \(3,3\) could not be broadcast to indexing result "
                                         r"of shape \(2,3\)"):
        t[[0, 1]] = np.ones((3, 3))
    with pytest.raises(IndexError):
        t[7] = 1.0


def test_setitem_casts_like_numpy():
    t = tl.array([0, 0, 0])
    t[0] = 2.7
    t[1] = True
    t[2:] = np.array([-3.9])
    assert np.asarray(t).tolist() == [2, 1, -3]
    u = tl.array(np.zeros(3, np.uint8))
    with pytest.raises(OverflowError):
        u[0] = 300
    with pytest.raises(OverflowError):
        u[0] = -1
    u[1] = 255
    b = tl.array([False, False])
    b[0] = 5
    assert np.asarray(b).tolist() == [True, False]
    f = tl.array(np.zeros(2, np.float32))
    f[...] = np.array([1, 2], np.int64)
    assert_tensor_equal(f, np.array([1, 2], np.float32))
    f[...] = np.array([3, 4], np.int16)  # dtypes tensorlet does not hold are cast on assignment, as NumPy
    f[:1] = np.array([0.5], np.float16)
    assert_tensor_equal(f, np.array([0.5, 4], np.float32))
    with pytest.raises(TypeError):
        f[0] = "a"


def test_setitem_repeated_and_overlapping():
    x = np.arange(6.0)
    setitem_both(x, [1, 1, 2], np.array([5.0, 6.0, 7.0]))  # the last write wins
    t = tl.array(x)
    t[1:] = t[:-1]
    y = x.copy()
    y[1:] = y[:-1]
    assert_tensor_equal(t, y)
    t = tl.array(x)
    t[::-1] = t
    assert_tensor_equal(t, x[::-1])
    t = tl.array(x)
    t[[0, 1]] = t[[1, 0]]
    y = x.copy()
    y[[0, 1]] = y[[1, 0]]
    assert_tensor_equal(t, y)


def test_setitem_from_numpy_views_of_the_same_buffer():
    # Two NumPy views of one buffer become two borrowed storages: the overlap must still be seen.
    a = np.arange(8.0)
    t = tl.asarray(a)
    t[1:] = tl.asarray(a[:-1])
    assert np.asarray(t).tolist() == [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    b = np.arange(8.0)
    t = tl.asarray(b)
    t[[7, 6, 5, 4, 3, 2, 1, 0]] = tl.asarray(b[::-1][::-1])
    assert np.asarray(t).tolist() == list(range(8))[::-1]
    c = np.arange(6.0)
    tl.take(tl.asarray(c[::-1]), [0, 1, 2, 3, 4, 5], out=tl.asarray(c))
    assert c.tolist() == [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]


def test_setitem_through_views_and_on_non_contiguous():
    x = np.arange(24.0).reshape(4, 6)
    t = tl.array(x)
    v = t[:, ::2].T
    v[1] = -1.0
    v[[0, 2], 1:3] = 9.0
    y = x.copy()
    yv = y[:, ::2].T
    yv[1] = -1.0
    yv[[0, 2], 1:3] = 9.0
    assert_tensor_equal(t, y)


def test_setitem_refuses_read_only_and_grad():
    a = np.zeros(3)
    a.setflags(write=False)
    t = tl.asarray(a)
    with pytest.raises(ValueError, match="read-only"):
        t[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        t[1:][[0]] = 1.0
    w = tl.array(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        w[0] = 1.0
    with pytest.raises(RuntimeError, match="requires grad"):
        w[1:][0] = 1.0
    with tl.no_grad():
        w[0] = 1.0
    assert np.asarray(w).tolist() == [1.0, 0.0, 0.0]
    buf = tl.array(np.zeros(3))
    with pytest.raises(RuntimeError, match="drop its gradient"):
        buf[0] = w[1]
    buf[0] = w[1].detach()


# ------------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("key", [
    1, -1, slice(1, None), slice(None, None, -1), slice(3, 0, -2), (Ellipsis, 1), (None, slice(None), 0),
    (slice(None), slice(1, 3)), (0, slice(None), None), (),
])
def test_basic_index_gradients(key):
    gradcheck(lambda t: t[key], np.random.randn(4, 3))
    gradcheck(lambda t: t.T[key], np.random.randn(3, 4))


@pytest.mark.parametrize("key", [
    [0, 2, 2, 0, 2], ([0, 1], [2, 2]), (slice(None), [1, 1, 0]), ([[0], [3]], [0, 2]),
    np.array([True, False, True, True]), (slice(None), np.array([False, True, True])),
    np.random.RandomState(0).rand(4, 3) > 0.4, (0, [1, 1]), (True, [3, 3]),
])
def test_advanced_index_gradients(key):
    gradcheck(lambda t: t[key], np.random.randn(4, 3))


def test_repeated_indices_accumulate():
    x = tl.array(np.zeros(4), requires_grad=True)
    y = x[[1, 1, 1, 3, -1]]
    y.backward(tl.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert np.asarray(x.grad).tolist() == [0.0, 6.0, 0.0, 9.0]


def test_saved_index_is_not_affected_by_later_changes():
    x = tl.array(np.zeros(3), requires_grad=True)
    idx = np.array([0, 1])
    y = x[idx]
    idx[:] = 2  # the caller reuses their index array before backward
    y.backward(tl.array([1.0, 2.0]))
    assert np.asarray(x.grad).tolist() == [1.0, 2.0, 0.0]


def test_indexing_broadcast_views():
    base = np.arange(3.0)
    x = np.broadcast_to(base, (4, 3))
    t = tl.broadcast_to(tl.array(base), (4, 3))
    for key in [1, (slice(None), 2), ([0, 3, 3], [2, 0, 1]), (slice(None, None, -1), [0, 0]), x[:, 0] > 0]:
        check_same(x, key, t)


def test_gradient_of_rows_from_iteration_and_view_chains():
    x = tl.array(np.arange(6.0).reshape(3, 2), requires_grad=True)
    total = None
    for row in x:
        total = row if total is None else total + row
    (total * tl.array([1.0, 2.0])).sum().backward()
    assert np.asarray(x.grad).tolist() == [[1.0, 2.0]] * 3
    gradcheck(lambda t: t[1:][:, ::-1][0], np.random.randn(3, 4))


@pytest.mark.parametrize("key", [[0, 2, 2], slice(1, None, 2), (np.array([True, False, True, True, False]),)])
def test_double_backward_through_indexing(key):
    # x.grad = scatter(g) at key; its gradient w.r.t. g is a gather of the outer weights.
    x = tl.array(np.random.randn(5), requires_grad=True)
    g_np = np.random.randn(*np.random.randn(5)[key].shape)
    g = tl.array(g_np, requires_grad=True)
    x[key].backward(g, create_graph=True)
    expected = np.zeros(5)
    np.add.at(expected, key, g_np)
    np.testing.assert_allclose(np.asarray(x.grad), expected)
    c = np.random.randn(5)
    (x.grad * tl.array(c)).sum().backward()
    np.testing.assert_allclose(np.asarray(g.grad), c[key])


def test_setitem_refuses_broadcast_views():
    b = tl.broadcast_to(tl.array([1.0, 2.0]), (3, 2))
    with pytest.raises(ValueError, match="read-only"):
        b[0, 0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        b[[0]] = 5.0
    e = tl.expand_dims(tl.array([1.0, 2.0]), 0)  # stride-0 size-1 dims are fine
    e[0, 1] = 7.0
    assert np.asarray(e).tolist() == [[1.0, 7.0]]


# ------------------------------------------------------------------------------------- take

@pytest.mark.parametrize("indices,axis", [([3, 0, 3], 0), ([[1], [5]], 1), (-1, 0), (7, None), ([], 0),
                                          (np.array([2, 0], np.int32), -1), ([[0, 23], [5, 5]], None),
                                          ([True, False], 0)])
def test_take_matches_numpy(indices, axis):
    x = np.asarray(np.random.randn(4, 6))
    assert_tensor_equal(tl.take(tl.array(x), indices, axis=axis), np.take(x, indices, axis=axis))
    want, werr = outcome(lambda: x.T.take(indices, axis=axis))
    got, gerr = outcome(lambda: tl.array(x).T.take(indices, axis=axis))
    assert werr == gerr or issubclass(gerr, werr)
    if werr is None:
        assert_tensor_equal(got, want)


def test_take_into_reused_buffer():
    x = np.asarray(np.random.randn(10, 3, 2)).astype(np.float32)
    t = tl.array(x)
    buf = tl.array(np.zeros((4, 3, 2), np.float32))
    for perm in (np.random.permutation(10)[:4] for _ in range(3)):
        assert tl.take(t, perm, axis=0, out=buf) is buf
        assert_tensor_equal(buf, x[perm])
    strided = tl.array(np.zeros((3, 8), np.float32))[:, ::2]  # any strides
    t.take([1, 2, 3, 4], axis=0)  # without out: a fresh tensor
    tl.take(tl.array(x[:, 0, 0]), [[0, 1, 2, 3]] * 3, out=strided)
    assert_tensor_equal(strided, np.take(x[:, 0, 0], [[0, 1, 2, 3]] * 3))
    same = tl.array(np.arange(5.0))
    tl.take(same, [4, 3, 2, 1, 0], out=same)  # out overlapping the input is buffered
    assert np.asarray(same).tolist() == [4.0, 3.0, 2.0, 1.0, 0.0]


def test_take_errors():
    t = tl.array(np.zeros((3, 4)))
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        tl.take(t, [4], axis=1)
    with pytest.raises(TypeError):
        tl.take(t, [1.5])
    with pytest.raises(IndexError):
        tl.take(t, [0], axis=2)
    with pytest.raises(ValueError, match=r"output array has shape \(3,\) but the result has shape \(2,\)"):
        tl.take(t, [0, 1], out=tl.array(np.zeros(3)))
    with pytest.raises(TypeError, match="same_kind"):  # float64 into int64 (float32 is fine: same kind)
        tl.take(t, [0, 1], out=tl.array(np.zeros(2, np.int64)))
    with pytest.raises(ValueError, match="mode"):
        tl.take(t, [0], mode="wrap")
    w = tl.array(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable"):
        tl.take(w, [0], out=tl.array(np.zeros(1)))


def test_take_gradient():
    gradcheck(lambda t: tl.take(t, [[2, 0], [2, 2]], axis=1), np.random.randn(2, 3))
    gradcheck(lambda t: tl.take(t, [5, 0, 5]), np.random.randn(2, 3))


# ------------------------------------------------------------------ random keys, valid or not

def _key_pool(size):
    return [
        0, -1, size, -size - 1, 2**63 - 1, -2**63, 2**70, 1.5, "a", None, Ellipsis, True, False, np.True_,
        slice(None), slice(1, None, -1), slice(0, 0), slice(None, None, 0), slice(2**70, -2**70, -2**70),
        slice(1.5), [0, 1], [], [True], [[0], [1]], [0.5], [None], [slice(None)], np.array([0, -1]),
        np.array([], np.int8), np.array(1), np.array([1.0]), np.array(["x"]), np.zeros((2, 2), bool),
        np.ones(size, bool), np.array([size]), tl.array([0, 0]), tl.array(True), tl.array([1.0]), np.int8(-1),
        np.uint64(2), (0,), object(),
    ]


def _np_key(k):
    if isinstance(k, tl.Tensor):
        return np.asarray(k)
    if isinstance(k, tuple):
        return tuple(_np_key(i) for i in k)
    return k


def test_random_keys_match_numpy_or_raise_the_same_class():
    """Random mixes of valid and invalid index items: same values as NumPy, or the same exception
    class (TL_FUZZ_EXAMPLES raises the budget, TL_FUZZ_SEED changes the keys)."""
    import os
    import random
    rng = random.Random(int(os.environ.get("TL_FUZZ_SEED", "0")))
    for _ in range(int(os.environ.get("TL_FUZZ_EXAMPLES", "1500"))):
        shape = tuple(rng.randint(0, 3) for _ in range(rng.randint(0, 3)))
        x = np.asarray(np.random.randn(*shape))
        n = rng.randint(0, 4)
        key = tuple(rng.choice(_key_pool(shape[0] if shape else 1)) for _ in range(n))
        if n == 1 and rng.random() < 0.5:
            key = key[0]
        want, werr = outcome(lambda: x[_np_key(key)])
        t = tl.array(x)
        got, gerr = outcome(lambda: t[key])
        if werr is None:
            assert gerr is None, (shape, key, gerr)
            assert np.array_equal(np.asarray(got), want) and np.asarray(got).shape == np.shape(want), (shape, key)
        else:
            assert gerr is not None and issubclass(gerr, werr), (shape, key, werr, gerr)
        # assignment through the same key never crashes and agrees on success / failure
        y = x.copy()
        werr = outcome(lambda: y.__setitem__(_np_key(key), 1.0))[1]
        gerr = outcome(lambda: t.__setitem__(key, 1.0))[1]
        assert (werr is None) == (gerr is None), (shape, key, werr, gerr)
        if werr is None:
            assert np.array_equal(np.asarray(t), y), (shape, key)
