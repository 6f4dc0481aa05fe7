"""The fast paths of conv and pooling against the NumPy reference: the direct kernel for one
input channel (forward and kernel gradient, every channel-block width of window_simd_impl.h),
max pooling's recomputed argmax (ties, NaN, overlapping windows), and the GEMM's 6-row panel
packing at the sizes around its vector widths."""
import numpy as np
import pytest

import tensorlet as tl
from conv_reference import conv as np_conv, conv_grads as np_conv_grads, max_pool as np_max_pool
from gradcheck import gradcheck

# (x shape NHWC with C = 1, kernel size, out channels, strides, dilation, padding). The out
# channels cover the 4-vector, 1-vector and scalar-tail blocks of float32 (8 lanes) and float64.
C1_CASES = [
    ((2, 9, 8, 1), (3, 3), 32, (1, 1), (1, 1), "valid"),
    ((3, 7, 10, 1), (3, 2), 45, (1, 1), (1, 1), "same"),    # 32 + 8 + 5
    ((2, 11, 9, 1), (3, 3), 3, (2, 3), (1, 1), "same"),     # scalar tail only, strides
    ((1, 12, 13, 1), (3, 3), 9, (1, 1), (2, 3), "valid"),   # dilation
    ((2, 6, 7, 1), (5, 5), 17, (2, 1), (1, 2), "same"),     # window hanging over the padding
    ((2, 13, 1), (4,), 12, (2,), (1,), "same"),             # 1-D
    ((65, 5, 5, 1), (2, 2), 8, (1, 1), (1, 1), "valid"),    # more rows than one gather chunk
]


def _rng_arrays(x_shape, size, out, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(tuple(size) + (1, out)).astype(dtype)
    b = rng.standard_normal(out).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("case", C1_CASES)
def test_single_input_channel_forward_and_gradients(case, dtype, tol):
    x_shape, size, out, strides, dilation, padding = case
    x, w, b = _rng_arrays(x_shape, size, out, dtype)
    xt, wt, bt = (tl.array(a, requires_grad=True) for a in (x, w, b))
    y = tl.conv(xt, wt, strides=strides, padding=padding, dilation_rate=dilation, bias=bt, activation="relu")
    pre = np_conv(x.astype(np.float64), w.astype(np.float64), strides, padding, dilation) + b
    np.testing.assert_allclose(np.asarray(y), np.maximum(pre, 0), rtol=tol, atol=tol)
    g = np.random.default_rng(1).standard_normal(pre.shape)
    y.backward(tl.array(g.astype(dtype)))
    gm = g * (pre > 0)
    dx, dw = np_conv_grads(x.astype(np.float64), w.astype(np.float64), gm, strides, padding, dilation)
    np.testing.assert_allclose(np.asarray(wt.grad), dw, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(np.asarray(xt.grad), dx, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(np.asarray(bt.grad), gm.reshape(-1, out).sum(0), rtol=tol, atol=tol * 10)


def test_single_input_channel_channels_first_and_non_contiguous():
    x, w, _ = _rng_arrays((3, 8, 9, 1), (3, 3), 10, np.float64)
    want = np_conv(x, w, (1, 1), "same", (1, 1))
    y = tl.conv(tl.array(x.transpose(0, 3, 1, 2)), tl.array(w), padding="same", data_format="channels_first")
    np.testing.assert_allclose(np.asarray(y), want.transpose(0, 3, 1, 2), rtol=1e-12, atol=1e-12)
    wide = np.zeros((3, 8, 18, 1))
    wide[:, :, ::2] = x
    view = tl.array(wide)[:, :, ::2]  # a strided view of the input
    np.testing.assert_allclose(np.asarray(tl.conv(view, tl.array(w), padding="same")), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_single_input_channel_gradcheck(padding):
    x, w, b = _rng_arrays((2, 6, 5, 1), (3, 2), 11, np.float64)
    gradcheck(lambda a, k, c: tl.conv(a, k, strides=(2, 1), padding=padding, bias=c), x, w, b)


def test_single_input_channel_thread_count_does_not_change_results():
    x, w, b = _rng_arrays((40, 12, 12, 1), (3, 3), 24, np.float32)
    outs = []
    for threads in (1, 2):
        old = tl.get_num_threads()
        tl.set_num_threads(threads)
        try:
            wt = tl.array(w, requires_grad=True)
            y = tl.conv(tl.array(x), wt, bias=tl.array(b), activation="relu")
            y.backward(tl.ones(y.shape))
            outs.append((np.asarray(y).copy(), np.asarray(wt.grad).copy()))
        finally:
            tl.set_num_threads(old)
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pool,strides,padding", [((2, 2), (2, 2), "valid"), ((3, 3), (1, 2), "same"),
                                                   ((2, 3), (1, 1), "valid")])
def test_max_pool_recomputed_argmax_with_ties(dtype, pool, strides, padding):
    # Few distinct values: most windows hold ties, whose gradient must go to the first maximum.
    x = np.random.default_rng(2).integers(0, 3, (2, 7, 8, 11)).astype(dtype)
    xt = tl.array(x, requires_grad=True)
    y = tl.max_pool(xt, pool, strides=strides, padding=padding)
    want, grad = np_max_pool(x, pool, strides, padding)
    np.testing.assert_array_equal(np.asarray(y), want)
    g = np.random.default_rng(3).standard_normal(want.shape).astype(dtype)
    y.backward(tl.array(g))
    np.testing.assert_allclose(np.asarray(xt.grad), grad(g.astype(np.float64)), rtol=1e-6, atol=1e-6)


def test_max_pool_nan_gradient_goes_to_the_first_nan_per_channel():
    x = np.zeros((1, 2, 2, 3))
    x[0, 0, 1, 0] = x[0, 1, 0, 0] = np.nan   # channel 0: two NaNs, the first gets it
    x[0, 1, 1, 1] = np.nan                    # channel 1: one NaN, after larger numbers
    x[0, 0, 0, 1] = 5.0
    x[0, :, :, 2] = [[-np.inf, -1.0], [-1.0, -np.inf]]  # channel 2: a tie of -1.0
    xt = tl.array(x, requires_grad=True)
    y = tl.max_pool(xt, 2)
    assert np.isnan(np.asarray(y)[0, 0, 0, :2]).all() and np.asarray(y)[0, 0, 0, 2] == -1.0
    y.backward(tl.ones(y.shape, dtype="float64"))
    grad = np.asarray(xt.grad)[0]
    np.testing.assert_array_equal(grad[:, :, 0], [[0, 1], [0, 0]])
    np.testing.assert_array_equal(grad[:, :, 1], [[0, 0], [0, 1]])
    np.testing.assert_array_equal(grad[:, :, 2], [[0, 1], [0, 0]])


def test_max_pool_saved_output_modified_in_place_is_an_error():
    xt = tl.array(np.random.default_rng(4).standard_normal((1, 4, 4, 2)), requires_grad=True)
    y = tl.max_pool(xt * 1.0, 2)
    y += 1.0  # the backward pass recomputes the argmax from y: it must refuse a changed y
    with pytest.raises(RuntimeError):
        y.sum().backward()


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_gemm_panel_packing_edges(ta, tb):
    # Rows around the 6-row panels, depths around the 8-wide register transpose, columns
    # around the 16-wide tiles, each against NumPy in float32 and float64.
    rng = np.random.default_rng(5)
    for m, k, n in [(6, 8, 16), (7, 9, 17), (13, 17, 33), (5, 1, 3), (12, 23, 64), (18, 64, 10)]:
        for dtype in (np.float32, np.float64):
            a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
            b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
            A, B = (a.T if ta else a), (b.T if tb else b)
            got = np.asarray(tl.matmul(tl.array(a).T if ta else tl.array(a), tl.array(b).T if tb else tl.array(b)))
            tol = 1e-4 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(got, A.astype(np.float64) @ B.astype(np.float64), rtol=tol, atol=tol)


def test_input_gradient_of_an_image_larger_than_one_chunk():
    # 16x16 output pixels of a 3x3x64 float64 kernel: 256 patch rows of 4.6 KB, more than the
    # ~1 MB chunk, so one image's input gradient goes in row chunks.
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 16, 16, 64)), rng.standard_normal((3, 3, 64, 3))
    xt = tl.array(x, requires_grad=True)
    y = tl.conv(xt, tl.array(w), padding="same")
    g = rng.standard_normal(y.shape)
    y.backward(tl.array(g))
    dx, _ = np_conv_grads(x, w, g, (1, 1), "same", (1, 1))
    np.testing.assert_allclose(np.asarray(xt.grad), dx, rtol=1e-12, atol=1e-12)


def test_chapter5_shaped_convnet_captured_step_equals_eager():
    # The book's layer sequence at toy size: the direct Cin=1 conv, the GEMM conv, both max
    # pools (recomputed argmax) and the fused bias+relu, recorded once and replayed in C++.
    import warnings

    from tensorlet import layers, models, utils
    from tensorlet.capture import CapturedFunction

    rng = np.random.default_rng(7)
    x = rng.random((32, 10, 10, 1), dtype=np.float32)
    y = rng.integers(0, 3, 32)

    def train(run_eagerly):
        utils.set_random_seed(5)
        model = models.Sequential([
            layers.Conv2D(8, (3, 3), activation="relu", input_shape=(10, 10, 1)), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(12, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Flatten(), layers.Dense(3, activation="softmax")])
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      run_eagerly=run_eagerly)
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        return model, history.history, model.predict(x, batch_size=16, verbose=0)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a replay that fell back to eager warns
        captured = train(False)
    eager = train(True)
    step = captured[0].train_function.step
    assert isinstance(step, CapturedFunction) and step.stats()["replays"] > 0
    for key in eager[1]:
        np.testing.assert_allclose(captured[1][key], eager[1][key], rtol=1e-5, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(captured[2], eager[2], rtol=1e-5, atol=1e-6)
    for a, b in zip(captured[0].get_weights(), eager[0].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
