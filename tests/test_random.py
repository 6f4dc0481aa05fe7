"""tl.random: Philox4x64-10 streams equal to NumPy's (the oracle), golden values, statistics,
validation."""
import numpy as np
import pytest

import tensorlet as tl


def np_gen(seed):
    return np.random.Generator(np.random.Philox(key=seed))


def np_legacy(seed):
    return np.random.RandomState(np.random.Philox(key=seed))


def arr(t):
    assert isinstance(t, tl.Tensor)
    return np.asarray(t)


SEEDS = [0, 1, 42, 2**63 + 5, 2**100 + 7]


@pytest.mark.parametrize("seed", SEEDS)
def test_uniform_is_numpy_philox_stream(seed):
    tl.random.seed(seed)
    np.testing.assert_array_equal(arr(tl.random.uniform(size=1000)), np_gen(seed).random(1000))
    tl.random.seed(seed)
    np.testing.assert_array_equal(arr(tl.random.uniform(-3.0, 5.0, size=(10, 7))), np_gen(seed).uniform(-3.0, 5.0, (10, 7)))
    tl.random.seed(seed)
    got = tl.random.uniform(size=101, dtype="float32")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(arr(got), np_gen(seed).random(101, dtype=np.float32))


@pytest.mark.parametrize("seed", SEEDS)
def test_normal_is_numpy_polar_method(seed):
    tl.random.seed(seed)
    got = arr(tl.random.normal(1.5, 2.0, size=1001))
    np.testing.assert_allclose(got, np_legacy(seed).normal(1.5, 2.0, 1001), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("low,high", [(0, 10), (-5, 5), (0, 1), (0, 2**32), (0, 2**32 - 1), (3, 2**32 + 3), (-(2**63), 2**63 - 1),
                                      (0, 2**63), (-(2**62), 2**62 + 12345), (7, 8), (0, 3)])
def test_randint_is_numpy_integers(seed, low, high):
    tl.random.seed(seed)
    got = tl.random.randint(low, high, size=500)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(arr(got), np_gen(seed).integers(low, high, 500))


@pytest.mark.parametrize("low,high", [(0, 10), (-(2**31), 2**31 - 1), (-100, 100)])
def test_randint_int32_is_numpy_integers(low, high):
    tl.random.seed(3)
    got = tl.random.randint(low, high, size=300, dtype="int32")
    assert got.dtype == np.int32
    np.testing.assert_array_equal(arr(got), np_gen(3).integers(low, high, 300, dtype=np.int32))


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1000])
def test_permutation_is_numpy_permutation(n):
    tl.random.seed(9)
    got = tl.random.permutation(n)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(arr(got), np_gen(9).permutation(n))


@pytest.mark.parametrize("shape", [(10,), (6, 3), (5, 2, 3), (1, 4), (0, 3)])
@pytest.mark.parametrize("dtype", ["float64", "int32", "uint8", "bool"])
def test_shuffle_and_permutation_of_tensors(shape, dtype):
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 200).astype(dtype)
    t = tl.array(a)
    tl.random.seed(11)
    assert tl.random.shuffle(t) is None
    expected = a.copy()
    np_gen(11).shuffle(expected)
    np.testing.assert_array_equal(arr(t), expected)
    tl.random.seed(11)
    p = tl.random.permutation(tl.array(a))
    np.testing.assert_array_equal(arr(p), np_gen(11).permutation(a))
    assert p.dtype == a.dtype


def test_shuffle_non_contiguous_view_and_numpy_buffer():
    a = np.arange(24.0).reshape(4, 6)
    t = tl.asarray(a)  # zero-copy: shuffling t shuffles a
    view = t.T         # rows of the view are columns of a
    tl.random.seed(5)
    tl.random.shuffle(view)
    expected = np.arange(24.0).reshape(4, 6).T.copy()
    np_gen(5).shuffle(expected)
    np.testing.assert_array_equal(a.T, expected)


def test_interleaved_calls_follow_one_stream():
    bg = np.random.Philox(key=77)
    g, legacy = np.random.Generator(bg), np.random.RandomState(bg)
    tl.random.seed(77)
    np.testing.assert_array_equal(arr(tl.random.uniform(size=3)), g.random(3))
    np.testing.assert_array_equal(arr(tl.random.randint(0, 5, size=3)), g.integers(0, 5, 3))  # odd number of uint32 halves
    np.testing.assert_allclose(arr(tl.random.normal(size=3)), legacy.normal(size=3), rtol=1e-13)  # leaves a cached normal
    np.testing.assert_array_equal(arr(tl.random.permutation(7)), g.permutation(7))
    np.testing.assert_allclose(arr(tl.random.normal(size=2)), legacy.normal(size=2), rtol=1e-13)
    np.testing.assert_array_equal(arr(tl.random.uniform(size=2)), g.random(2))


@pytest.mark.parametrize("threads", [1, 2])
def test_bulk_uniform_fills_keep_the_stream_and_state(threads):
    """Large fills draw whole Philox blocks (split over the pool by block index): every value and
    the state they leave (counter, buffer, uint32 half) must equal NumPy's one-at-a-time draws,
    from any position in a block, at any thread count; a counter word wrapping carries."""
    prev = tl.get_num_threads()
    tl.set_num_threads(threads)
    try:
        for key, counter in ((77, (0, 0, 0, 0)), (5, (2**64 - 3, 2**64 - 1, 7, 0))):
            bg = np.random.Philox(key=key, counter=np.array(counter, dtype=np.uint64))
            g = np.random.Generator(bg)
            tl.random.set_state({**tl.random.get_state(), "key": (key, 0), "counter": counter, "buffer_pos": 4,
                                 "has_uint32": False, "uinteger": 0, "has_gauss": False, "gauss": 0.0})
            for size, dtype in ((3, "float32"), (70001, "float32"), (5, "float64"), (66003, "float64"),
                                (16, "float32"), (8, "float64"), (9, "float32")):
                got = arr(tl.random.uniform(size=size, dtype=dtype))
                np.testing.assert_array_equal(got, g.random(size, dtype=np.dtype(dtype)), err_msg=f"{size} {dtype}")
                st, ref = tl.random.get_state(), bg.state
                assert st["counter"] == tuple(int(c) for c in ref["state"]["counter"])
                assert st["buffer"] == tuple(int(b) for b in ref["buffer"]) and st["buffer_pos"] == ref["buffer_pos"]
                assert st["has_uint32"] == bool(ref["has_uint32"]) and st["uinteger"] == ref["uinteger"]
    finally:
        tl.set_num_threads(prev)


def test_golden_values():
    """Pinned outputs: catch any drift of the generator across platforms, compilers or versions."""
    tl.random.seed(12345)
    assert tl.random.uniform(size=4).tolist() == [0.6463801884227345, 0.7742675977164786, 0.7864362639285933,
                                                  0.15959668272284822]
    np.testing.assert_allclose(tl.random.normal(size=4).tolist(),
                               [0.3682228637517642, -0.39213885280242977, 0.4878033639263681, 0.8540149495871592],
                               rtol=1e-14)
    assert tl.random.randint(0, 1000, size=6).tolist() == [810, 20, 984, 964, 18, 700]
    assert tl.random.permutation(8).tolist() == [3, 1, 7, 5, 0, 2, 6, 4]
    assert tl.random.uniform(size=3, dtype="float32").tolist() == [0.3182796835899353, 0.3635830283164978,
                                                                   0.1837140917778015]


def test_reproducible_and_seed_sensitive():
    tl.random.seed(2024)
    a = arr(tl.random.normal(size=100)).copy()
    tl.random.seed(2024)
    np.testing.assert_array_equal(arr(tl.random.normal(size=100)), a)
    tl.random.seed(2025)
    assert not np.array_equal(arr(tl.random.normal(size=100)), a)
    tl.random.seed()  # entropy
    tl.random.seed(None)


def test_state_round_trip():
    tl.random.seed(3)
    tl.random.normal(size=3)  # leaves a cached normal and a partly used buffer
    tl.random.randint(0, 4, size=1)
    state = tl.random.get_state()
    assert state["bit_generator"] == "Philox4x64-10"
    first = arr(tl.random.normal(size=50)).copy(), arr(tl.random.randint(0, 9, size=9)).copy()
    tl.random.set_state(state)
    np.testing.assert_array_equal(arr(tl.random.normal(size=50)), first[0])
    np.testing.assert_array_equal(arr(tl.random.randint(0, 9, size=9)), first[1])
    with pytest.raises(ValueError):
        tl.random.set_state({"bit_generator": "MT19937"})
    with pytest.raises(ValueError):
        tl.random.set_state(dict(state, buffer_pos=9))


def test_statistics_of_1e6_samples():
    tl.random.seed(0)
    n = 1_000_000
    z = arr(tl.random.normal(size=n))
    assert abs(z.mean()) < 0.005 and abs(z.std() - 1) < 0.005
    assert abs((np.abs(z) < 1).mean() - 0.6826894921) < 0.003
    z32 = arr(tl.random.normal(3.0, 0.5, size=n, dtype="float32"))
    assert z32.dtype == np.float32 and abs(z32.mean() - 3) < 0.003 and abs(z32.std() - 0.5) < 0.003
    u = arr(tl.random.uniform(-2.0, 3.0, size=n))
    assert u.min() >= -2.0 and u.max() < 3.0
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 25 / 12) < 0.01
    u32 = arr(tl.random.uniform(size=n, dtype="float32"))
    assert u32.min() >= 0 and u32.max() < 1 and abs(u32.mean() - 0.5) < 0.002
    k = arr(tl.random.randint(-3, 4, size=n))
    counts = np.bincount(k + 3, minlength=7)
    assert k.min() == -3 and k.max() == 3
    chi2 = ((counts - n / 7) ** 2 / (n / 7)).sum()
    assert chi2 < 30  # 6 degrees of freedom: P(chi2 > 30) < 1e-4


def test_randint_edges():
    tl.random.seed(1)
    assert (arr(tl.random.randint(5, 6, size=100)) == 5).all()
    assert set(arr(tl.random.randint(2, size=1000)).tolist()) == {0, 1}
    b = tl.random.randint(0, 2, size=100, dtype="bool")
    assert b.dtype == np.bool_ and set(arr(b).tolist()) == {False, True}
    u8 = arr(tl.random.randint(250, 256, size=1000, dtype="uint8"))
    assert u8.dtype == np.uint8 and u8.min() == 250 and u8.max() == 255
    full = arr(tl.random.randint(-(2**63), 2**63, size=1000))
    assert full.min() < -(2**61) and full.max() > 2**61
    s = tl.random.randint(10)
    assert s.shape == () and 0 <= int(s) < 10


def test_size_forms():
    assert tl.random.uniform().shape == ()
    assert tl.random.normal(size=3).shape == (3,)
    assert tl.random.normal(size=(2, 0, 3)).shape == (2, 0, 3)
    assert tl.random.randint(0, 5, size=[2, 2]).shape == (2, 2)


def test_errors():
    with pytest.raises(ValueError, match="low >= high"):
        tl.random.randint(5, 5)
    with pytest.raises(ValueError, match="low >= high"):
        tl.random.randint(0)
    with pytest.raises(ValueError, match="out of bounds"):
        tl.random.randint(0, 2**40, dtype="int32")
    with pytest.raises(ValueError, match="out of bounds"):
        tl.random.randint(-5, 0, dtype="uint8")
    with pytest.raises(ValueError, match="out of bounds"):
        tl.random.randint(0, 2**64)
    with pytest.raises(TypeError):
        tl.random.randint(0, 5, dtype="float32")
    with pytest.raises(TypeError):
        tl.random.randint(0.5, 5)
    with pytest.raises(ValueError, match="scale"):
        tl.random.normal(0.0, -1.0)
    with pytest.raises(OverflowError):
        tl.random.uniform(0, float("inf"))
    with pytest.raises(TypeError):
        tl.random.uniform(size=3, dtype="int64")
    with pytest.raises(TypeError):
        tl.random.normal(size=3, dtype="bogus")
    with pytest.raises(TypeError):
        tl.random.normal("a")
    with pytest.raises(TypeError, match="size="):
        tl.random.normal((2, 3))
    with pytest.raises(ValueError, match="negative"):
        tl.random.normal(size=(-1, 2))
    with pytest.raises((MemoryError, ValueError)):
        tl.random.uniform(size=(2**40, 2**40))
    with pytest.raises((MemoryError, ValueError)):
        tl.random.randint(0, 5, size=2**62)
    with pytest.raises(TypeError):
        tl.random.shuffle(tl.array(5.0))
    with pytest.raises(IndexError):
        tl.random.permutation(tl.array(5.0))
    with pytest.raises(ValueError):
        tl.random.seed(-1)
    with pytest.raises(ValueError):
        tl.random.seed(2**128)
    with pytest.raises(TypeError):
        tl.random.seed(1.5)
    ro = np.arange(3.0)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        tl.random.shuffle(tl.asarray(ro))
    with pytest.raises(ValueError, match="read-only"):
        tl.random.shuffle(tl.broadcast_to(tl.arange(3.0), (4, 3)))
    w = tl.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        tl.random.shuffle(w)


def test_failed_calls_do_not_consume_draws():
    tl.random.seed(8)
    with pytest.raises(ValueError):
        tl.random.normal(0.0, -1.0, size=10)
    np.testing.assert_allclose(arr(tl.random.normal(size=3)), np_legacy(8).normal(size=3), rtol=1e-13)


def test_generator_objects_are_independent_streams():
    g = tl.random.Generator(21)
    tl.random.seed(21)
    np.testing.assert_array_equal(arr(g.uniform(size=5)), arr(tl.random.uniform(size=5)))
    np.testing.assert_array_equal(arr(g.normal(size=5)), arr(tl.random.normal(size=5)))
    np.testing.assert_array_equal(arr(g.randint(0, 7, size=5)), arr(tl.random.randint(0, 7, size=5)))
    np.testing.assert_array_equal(arr(g.permutation(9)), arr(tl.random.permutation(9)))
    # drawing from one does not move the other
    h = tl.random.Generator(5)
    tl.random.seed(5)
    g.normal(size=100)
    np.testing.assert_array_equal(arr(h.uniform(size=3)), np_gen(5).random(3))
    np.testing.assert_array_equal(arr(tl.random.uniform(size=3)), np_gen(5).random(3))
    t = tl.arange(10)
    tl.random.Generator(3).shuffle(t)
    np.testing.assert_array_equal(arr(t), np_gen(3).permutation(10))
    state = h.get_state()
    a = arr(h.normal(size=4)).copy()
    h.set_state(state)
    np.testing.assert_array_equal(arr(h.normal(size=4)), a)
    h.seed(5)
    np.testing.assert_array_equal(arr(h.uniform(size=3)), np_gen(5).random(3))
    tl.random.Generator()  # entropy
    with pytest.raises(ValueError):
        tl.random.Generator(-1)


def test_generator_shared_between_threads_stays_consistent():
    import threading

    g = tl.random.Generator(0)
    out = []

    def work():
        out.append(arr(g.randint(0, 2**40, size=100_000)).copy())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drawn = np.sort(np.concatenate(out))
    expected = np.sort(np_gen(0).integers(0, 2**40, 400_000))
    np.testing.assert_array_equal(drawn, expected)  # same multiset: no draw lost or repeated
