"""The compiled Dense-stack training step (csrc/train/dense_stack.h, tensorlet._dense_stack):
its gradients against a NumPy float64 oracle, fit through it against the generic autograd path,
when the trainer chooses it, and its argument checks."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import _core, layers, losses, models, optimizers, utils
from tensorlet.trainer import StepFunction


def mlp_oracle(x, t, weights, relus, sparse, from_index=None):
    """Mean softmax cross-entropy, hits and the gradients of every kernel and bias, by hand in
    float64. weights: [(W, b or None)]; t: one-hot rows or class ids."""
    hs, h = [x], x
    for i, ((w, b), relu) in enumerate(zip(weights, relus)):
        z = h @ w + (0 if b is None else b)
        h = np.maximum(z, 0) if relu else z
        hs.append(h)
    z = hs[-1]
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    n, c = z.shape
    onehot = np.eye(c)[t] if sparse else t
    loss = float(np.mean(np.sum(onehot * (lse - z), axis=1)))
    labels = t if sparse else t.argmax(axis=1)
    hits = int(np.sum(z.argmax(axis=1) == labels))
    dz = (np.exp(z - lse) * onehot.sum(axis=1, keepdims=True) - onehot) / n
    grads = []
    for i in range(len(weights) - 1, -1, -1):
        w, b = weights[i]
        layer_grads = [hs[i].T @ dz] + ([dz.sum(axis=0)] if b is not None else [])
        grads = layer_grads + grads
        if i:
            dz = (dz @ w.T) * ((hs[i] > 0) if relus[i - 1] else 1)
    return loss, hits, grads


def random_stack(rng, sizes, relus, bias, dtype):
    weights = []
    for k, n in zip(sizes[:-1], sizes[1:]):
        w = rng.normal(scale=1 / np.sqrt(k), size=(k, n)).astype(dtype)
        b = rng.normal(scale=0.1, size=n).astype(dtype) if bias else None
        weights.append((w, b))
    return weights


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("sizes, relus, bias, batch", [
    ((7, 5, 3), (True, False), True, 4),
    ((33, 17, 9, 10), (True, False, False), True, 13),
    ((20, 40, 30, 4), (True, True, False), False, 1),
    ((64, 10), (False,), True, 32),
])
def test_gradients_match_numpy_oracle(dtype, rtol, sparse, sizes, relus, bias, batch):
    rng = np.random.default_rng(len(sizes) * 100 + batch)
    weights = random_stack(rng, sizes, relus, bias, dtype)
    n, c = 50, sizes[-1]
    x = rng.normal(size=(n, sizes[0])).astype(dtype)
    labels = rng.integers(0, c, size=n)
    y = labels.astype(np.int64) if sparse else np.eye(c, dtype=dtype)[labels]
    index = rng.permutation(n).astype(np.int64)
    stack = _core._DenseStack([(tl.asarray(w), None if b is None else tl.asarray(b), r)
                               for (w, b), r in zip(weights, relus)], "sparse" if sparse else "categorical", batch)
    for start in (0, n - batch):
        rows = index[start:start + batch]
        loss, hits, count = stack.train_step(tl.asarray(x), tl.asarray(y), tl.asarray(index), start, start + batch)
        w64 = [(w.astype(np.float64), None if b is None else b.astype(np.float64)) for w, b in weights]
        t = labels[rows] if sparse else y[rows].astype(np.float64)
        ref_loss, ref_hits, ref_grads = mlp_oracle(x[rows].astype(np.float64), t, w64, relus, sparse)
        assert count == batch and hits == ref_hits
        assert loss == pytest.approx(ref_loss, rel=rtol)
        assert len(stack.grads) == len(ref_grads)
        for g, ref in zip(stack.grads, ref_grads):
            np.testing.assert_allclose(np.asarray(g), ref, rtol=rtol, atol=rtol * 1e-2)
    # Consecutive rows (no index) and the test step agree with the same oracle.
    loss, hits, _ = stack.test_step(tl.asarray(x), tl.asarray(y), 3, 3 + batch)
    t = labels[3:3 + batch] if sparse else y[3:3 + batch].astype(np.float64)
    ref_loss, ref_hits, _ = mlp_oracle(x[3:3 + batch].astype(np.float64), t,
                                       [(w.astype(np.float64), None if b is None else b.astype(np.float64))
                                        for w, b in weights], relus, sparse)
    assert loss == pytest.approx(ref_loss, rel=rtol) and hits == ref_hits


def test_nan_gradients_propagate_through_the_relu_mask():
    w1, w2 = np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)
    x = np.array([[np.nan, 1.0]], np.float32)
    stack = _core._DenseStack([(tl.asarray(w1), None, True), (tl.asarray(w2), None, False)], "sparse", 1)
    loss, _, _ = stack.train_step(tl.asarray(x), tl.asarray(np.array([0])), None, 0, 1)
    assert np.isnan(loss)
    assert np.isnan(np.asarray(stack.grads[0])).any()


def models_pair(hidden=("relu",), last="softmax", loss="categorical_crossentropy", optimizer="sgd", bias=True,
                metrics=("accuracy",)):
    made = []
    for eager in (True, False):
        utils.set_random_seed(3)
        stack = [layers.Dense(16, activation=a, use_bias=bias) for a in hidden]
        model = models.Sequential(stack + [layers.Dense(10, activation=last, use_bias=bias)])
        opt = optimizers.get(optimizer) if isinstance(optimizer, str) else optimizer()
        model.compile(optimizer=opt, loss=loss, metrics=list(metrics), run_eagerly=eager)
        made.append(model)
    return made


def data(n=300, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 20)).astype(np.float32)
    y = rng.integers(0, 10, size=n)
    return x, (y if sparse else utils.to_categorical(y, 10))


@pytest.mark.parametrize("config", [
    dict(),
    dict(loss="sparse_categorical_crossentropy"),
    dict(hidden=("relu", "linear", "relu")),
    dict(hidden=(), bias=False),
    dict(last="linear", loss=losses.CategoricalCrossentropy(from_logits=True)),
    dict(optimizer=lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True)),
    dict(metrics=()),
])
def test_fit_through_the_compiled_step_matches_the_generic_path(config):
    eager, compiled = models_pair(**config)
    sparse = "sparse" in str(config.get("loss", ""))
    x, y = data(sparse=sparse)
    xv, yv = data(n=70, sparse=sparse, seed=1)
    utils.set_random_seed(7)  # the same shuffles for both
    h1 = eager.fit(x, y, epochs=2, batch_size=32, verbose=0, validation_data=(xv, yv)).history
    utils.set_random_seed(7)
    h2 = compiled.fit(x, y, epochs=2, batch_size=32, verbose=0, validation_data=(xv, yv)).history
    assert h1.keys() == h2.keys()
    for key in h1:
        np.testing.assert_allclose(h2[key], h1[key], rtol=1e-4, atol=1e-6, err_msg=key)
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    e1, e2 = eager.evaluate(xv, yv, verbose=0), compiled.evaluate(xv, yv, verbose=0)
    np.testing.assert_allclose(e2, e1, rtol=1e-5)


def compiled(function) -> bool:
    """Whether the trainer chose the Dense-stack function (not the generic eager step)."""
    return function is not None and not isinstance(function, StepFunction)


def test_trainer_chooses_the_compiled_step_only_when_it_applies():
    x, y = data()

    def fit(model):
        model.fit(x, y, epochs=1, batch_size=100, verbose=0)
        return compiled(model.train_function)

    assert fit(models_pair()[1])
    assert not fit(models_pair()[0])  # run_eagerly=True
    for hidden in (("sigmoid",), ("tanh",)):
        assert not fit(models_pair(hidden=hidden)[1])
    assert not fit(models_pair(last="sigmoid", loss="binary_crossentropy")[1])
    assert not fit(models_pair(loss="mean_squared_error")[1])
    assert not fit(models_pair(loss=losses.CategoricalCrossentropy(label_smoothing=0.1))[1])
    utils.set_random_seed(0)
    dropout = models.Sequential([layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                                 layers.Dense(10, activation="softmax")])
    dropout.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert not fit(dropout)
    jit_off = models_pair()[1]
    jit_off.compile(optimizer="sgd", loss="categorical_crossentropy", jit_compile=False)
    assert not fit(jit_off)

    class CustomStep(models.Sequential):
        def train_step(self, data):
            return super().train_step(data)

    custom = CustomStep([layers.Dense(10, activation="softmax")])
    custom.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert not fit(custom)
    frozen = models_pair()[1]
    assert fit(frozen)
    frozen.layers[0].trainable = False  # after a fit: the next fit chooses again
    assert not fit(frozen)


def test_compiled_fit_same_with_one_and_two_threads():
    x, y = data(n=600)
    weights = []
    for threads in (1, 2):
        old = tl.get_num_threads()
        tl.set_num_threads(threads)
        try:
            utils.set_random_seed(5)
            model = models.Sequential([layers.Dense(256, activation="relu"), layers.Dense(10, activation="softmax")])
            model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
            model.fit(np.tile(x, (1, 40)), y, epochs=1, batch_size=128, verbose=0)
            weights.append(model.get_weights())
        finally:
            tl.set_num_threads(old)
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def stack_of(shapes, loss="categorical", batch=4, relu_last=False):
    specs = [(tl.zeros(s, dtype="float32"), tl.zeros(s[1], dtype="float32"), i + 1 < len(shapes) or relu_last)
             for i, s in enumerate(shapes)]
    return _core._DenseStack(specs, loss, batch)


def test_construction_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"does not follow a layer of 5 units"):
        stack_of([(3, 5), (4, 2)])
    with pytest.raises(ValueError, match="cannot have a relu"):
        stack_of([(3, 2)], relu_last=True)
    with pytest.raises(ValueError, match="loss must be"):
        stack_of([(3, 2)], loss="mse")
    with pytest.raises(ValueError, match="batch size must be positive"):
        stack_of([(3, 2)], batch=0)
    with pytest.raises(ValueError, match="at least one Dense layer"):
        _core._DenseStack([], "sparse", 4)
    with pytest.raises(ValueError, match=r"bias 0 must have shape \(2,\), got \(3,\)"):
        _core._DenseStack([(tl.zeros((3, 2), dtype="float32"), tl.zeros(3, dtype="float32"), False)], "sparse", 4)
    with pytest.raises(ValueError, match="dtype float64, expected float32"):
        _core._DenseStack([(tl.zeros((3, 2), dtype="float32"), tl.zeros(2), False)], "sparse", 4)
    with pytest.raises(ValueError, match="float32 or float64"):
        _core._DenseStack([(tl.zeros((3, 2), dtype="int64"), None, False)], "sparse", 4)
    with pytest.raises(ValueError, match="contiguous"):
        _core._DenseStack([(tl.zeros((2, 3), dtype="float32").T, None, False)], "sparse", 4)
    with pytest.raises(MemoryError):  # the workspace for 2**62 rows cannot exist
        stack_of([(3, 2)], batch=2 ** 62)
    with pytest.raises(TypeError):  # tensors only: the Python side converts the data first
        stack_of([(3, 2)]).train_step(np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32), None, 0, 2)


def test_step_errors_name_the_problem():
    stack = stack_of([(3, 5), (5, 2)])
    x = tl.zeros((6, 3), dtype="float32")
    y = tl.zeros((6, 2), dtype="float32")
    with pytest.raises(ValueError, match=r"x must have shape \(n, 3\), got \(6,4\)"):
        stack.train_step(tl.zeros((6, 4), dtype="float32"), y, None, 0, 2)
    with pytest.raises(ValueError, match="x has dtype float64"):
        stack.train_step(tl.zeros((6, 3)), y, None, 0, 2)
    with pytest.raises(ValueError, match=r"y must have shape \(6, 2\)"):
        stack.train_step(x, tl.zeros((5, 2), dtype="float32"), None, 0, 2)
    with pytest.raises(IndexError, match="not a non-empty range"):
        stack.train_step(x, y, None, 4, 7)
    with pytest.raises(IndexError, match="not a non-empty range"):
        stack.train_step(x, y, None, 2, 2)
    with pytest.raises(ValueError, match="exceeds the workspace of 4"):
        stack.train_step(x, y, None, 0, 5)
    with pytest.raises(IndexError, match="row index 6 is out of bounds for 6 rows"):
        stack.train_step(x, y, tl.asarray(np.array([0, 6], np.int64)), 0, 2)
    with pytest.raises(IndexError, match="row index -1"):
        stack.train_step(x, y, tl.asarray(np.array([-1, 0], np.int64)), 0, 2)
    with pytest.raises(ValueError, match="index has dtype int32"):
        stack.train_step(x, y, tl.asarray(np.array([0, 1], np.int32)), 0, 2)
    sparse = stack_of([(3, 2)], loss="sparse")
    with pytest.raises(ValueError, match="label 2 is out of range for 2 classes"):
        sparse.train_step(x, tl.asarray(np.array([0, 2, 1, 0, 0, 0])), None, 0, 3)
    with pytest.raises(ValueError, match="y has dtype float32, expected int64"):
        sparse.train_step(x, tl.zeros(6, dtype="float32"), None, 0, 3)
    # Nothing above touched the gradients or crashed; a valid step still works.
    loss, hits, rows = stack.train_step(x, tl.asarray(np.eye(2, dtype=np.float32)[[0, 1, 0, 1, 0, 1]]), None, 0, 4)
    assert rows == 4 and loss == pytest.approx(np.log(2))


@pytest.mark.parametrize("last, batch", [("softmax", 32), ("linear", 7), ("softmax", 1000)])
def test_predict_and_evaluate_through_the_stack_match_the_generic_path(last, batch):
    x, y = data(n=150)
    eager, compiled_model = models_pair(hidden=("relu", "linear"), last=last,
                                        loss=losses.CategoricalCrossentropy(from_logits=last == "linear"))
    for model in (eager, compiled_model):
        utils.set_random_seed(1)
        model.fit(x, y, epochs=1, batch_size=50, verbose=0)
    p1, p2 = eager.predict(x, batch_size=batch, verbose=0), compiled_model.predict(x, batch_size=batch, verbose=0)
    # the eager model's predict stays generic
    assert not compiled(eager.predict_function) and compiled(compiled_model.predict_function)
    assert p2.dtype == np.float32 and p2.shape == (150, 10)
    np.testing.assert_allclose(p2, p1, rtol=1e-5, atol=1e-7)
    if last == "softmax":
        np.testing.assert_allclose(p2.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(compiled_model.evaluate(x, y, batch_size=batch, verbose=0),
                               eager.evaluate(x, y, batch_size=batch, verbose=0), rtol=1e-5)


def test_predict_only_stack_refuses_training_and_checks_out():
    stack = _core._DenseStack([(tl.zeros((3, 2), dtype="float32"), None, False)], "none", 4, False, "softmax")
    x = tl.zeros((5, 3), dtype="float32")
    with pytest.raises(ValueError, match="evaluation only"):
        stack.train_step(x, tl.zeros((5, 2), dtype="float32"), None, 0, 2)
    with pytest.raises(ValueError, match="no loss"):
        stack.test_step(x, tl.zeros((5, 2), dtype="float32"), 0, 2)
    with pytest.raises(ValueError, match=r"out must have shape \(5, 2\)"):
        stack.predict(x, 0, 2, tl.zeros((4, 2), dtype="float32"))
    with pytest.raises(ValueError, match="training needs a loss"):
        _core._DenseStack([(tl.zeros((3, 2), dtype="float32"), None, False)], "none", 4, True, "softmax")
    with pytest.raises(ValueError, match="output must be"):
        _core._DenseStack([(tl.zeros((3, 2), dtype="float32"), None, False)], "none", 4, False, "sigmoid")
    out = tl.zeros((5, 2), dtype="float32")
    stack.predict(x, 1, 5, out)
    np.testing.assert_array_equal(np.asarray(out), [[0, 0]] + [[0.5, 0.5]] * 4)


def test_grouped_evaluate_and_predict_report_every_batch_to_user_callbacks():
    from tensorlet import callbacks

    class Seen(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.test, self.predict = [], []

        def on_test_batch_end(self, batch, logs=None):
            self.test.append(batch)

        def on_predict_batch_end(self, batch, logs=None):
            self.predict.append(batch)

    x, y = data(n=1000)
    eager, compiled = models_pair()
    for model in (eager, compiled):
        utils.set_random_seed(2)
        model.build((None, 20))
    seen = Seen()
    e_grouped = compiled.evaluate(x, y, batch_size=32, verbose=0)
    e_each = compiled.evaluate(x, y, batch_size=32, verbose=0, callbacks=[seen])
    p_grouped = compiled.predict(x, batch_size=32, verbose=0)
    p_each = compiled.predict(x, batch_size=32, verbose=0, callbacks=[seen])
    assert seen.test == list(range(32)) and seen.predict == list(range(32))
    np.testing.assert_allclose(e_grouped, e_each, rtol=1e-6)
    np.testing.assert_allclose(e_grouped, eager.evaluate(x, y, batch_size=32, verbose=0), rtol=1e-5)
    np.testing.assert_array_equal(p_grouped, p_each)


def test_grouped_evaluate_progress_bar_still_reaches_the_last_step(capsys):
    x, y = data(n=1000)
    model = models_pair()[1]
    model.evaluate(x, y, batch_size=32, verbose=2)
    model.predict(x, batch_size=32, verbose=2)
    out = capsys.readouterr().out
    assert out.count("32/32") == 2


def test_evaluate_and_predict_reuse_their_function_and_see_new_weights():
    x, y = data(n=200)
    eager, model = models_pair()
    for m in (eager, model):
        utils.set_random_seed(4)
        m.build((None, 20))
    model.evaluate(x, y, verbose=0)
    first = model.test_function
    assert compiled(first)
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert model.test_function is first  # chosen once: no new function (or workspace) per call
    rng = np.random.default_rng(9)
    new = [rng.normal(size=w.shape).astype(np.float32) for w in eager.get_weights()]
    eager.set_weights(new)
    model.set_weights(new)  # in place: the function's stack reads the new values
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), eager.evaluate(x, y, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), eager.predict(x, verbose=0), rtol=1e-5, atol=1e-7)
    model.pop()
    model.add(layers.Dense(10, activation="softmax"))
    model.build((None, 20))
    model.evaluate(x, y, verbose=0)
    assert model.test_function is not first and compiled(model.test_function)  # new layers: chosen again
