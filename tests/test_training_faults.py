"""Training faults: NaN/Inf in the data are reported before training, a diverging loss stops
with TerminateOnNaN, and an exception or KeyboardInterrupt inside fit (a callback, the
optimizer step, a signal between parameter updates) leaves the model usable and every
parameter either fully stepped or untouched."""
import io
import os
import signal
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import callbacks, layers, models, optimizers, utils


def make_model(optimizer="adam", seed=0):
    utils.set_random_seed(seed)
    model = models.Sequential([layers.Dense(16, activation="relu"), layers.Dense(4)])
    model.compile(optimizer=optimizer, loss="mse")
    model.build((None, 8))
    return model


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 8)).astype(np.float32), rng.normal(size=(n, 4)).astype(np.float32)


def weights_equal(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_nan_and_inf_inputs_are_reported_before_training():
    model = make_model()
    x, y = data()
    x[3, 2] = np.nan
    x[5, 0] = np.inf
    with pytest.warns(RuntimeWarning, match=r"x contains 2 NaN or infinite value\(s\) \(first at index \(3, 2\)\)"):
        model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    x, y = data()
    y[0, 0] = -np.inf
    with pytest.warns(RuntimeWarning, match=r"y contains 1 NaN"):
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    x, y = data()
    with pytest.warns(RuntimeWarning, match=r"x contains 1 NaN .*index \(0, 0\)"):
        bad = x.copy()
        bad[0, 0] = np.nan
        model.fit(x, y, epochs=1, batch_size=32, verbose=0, validation_data=(bad, y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(*data(), epochs=1, batch_size=32, verbose=0)  # clean data: no warning


def test_sharded_checks_report_what_one_process_would():
    """Under a DataParallel each rank checks its rows only (tensorlet.distribution); the warning
    built from all ranks' findings is the one process's: counts summed, the first index the
    smallest, checks matched by name and occurrence (several outputs' labels are all "y")."""
    from tensorlet import _data

    x = np.zeros((7, 3), np.float32)
    x[5, 1] = x[6, 2] = np.nan  # rank 1's rows (4..6) only
    x[2, 0] = np.inf  # rank 0's (0..3)
    y = np.zeros((7, 2), np.float32)
    y[6, 0] = np.nan
    everyone = []
    for rank in range(2):
        with _data.sharded_finite_checks(lambda n, r=rank: (0, 4) if r == 0 else (4, n)) as found:
            _data.warn_if_not_finite(x, "x")
            _data.warn_if_not_finite(np.arange(7), "labels")  # not float: no check, no entry
            _data.warn_if_not_finite(np.zeros((7, 2), np.float32), "y")  # the first output's: clean
            _data.warn_if_not_finite(y, "y")
        everyone.append(found)
    assert [count for _, _, count, _ in everyone[0]] == [1, 0, 0]
    assert [count for _, _, count, _ in everyone[1]] == [2, 0, 1]
    with pytest.warns(RuntimeWarning) as got:
        _data.report_non_finite(everyone)
    assert [str(w.message).split(";")[0] for w in got] == [
        "x contains 3 NaN or infinite value(s) (first at index (2, 0))",
        "y contains 1 NaN or infinite value(s) (first at index (6, 0))"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _data.report_non_finite([everyone[0][1:], everyone[1][1:2]])  # clean parts: no warning


def test_diverging_loss_stops_with_terminate_on_nan():
    model = make_model(optimizer=optimizers.SGD(learning_rate=1e4))
    x, y = data(256)
    out = io.StringIO()
    with redirect_stdout(out):
        history = model.fit(x, y * 1e3, epochs=50, batch_size=16, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert "Invalid loss" in out.getvalue() and "terminating training" in out.getvalue()
    assert len(history.history["loss"]) < 50
    assert not np.isfinite(history.history["loss"][-1])


class Boom(Exception):
    pass


class RaiseAt(callbacks.Callback):
    def __init__(self, batch, exc):
        super().__init__()
        self.batch, self.exc, self.seen = batch, exc, []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append([w.copy() for w in self.model.get_weights()])
        if batch == self.batch:
            raise self.exc


@pytest.mark.parametrize("exc", [Boom("callback failed"), KeyboardInterrupt()])
def test_exception_in_a_callback_leaves_the_model_usable(exc):
    model = make_model()
    x, y = data()
    cb = RaiseAt(2, exc)
    with pytest.raises(type(exc)):
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False, callbacks=[cb])
    assert weights_equal(model.get_weights(), cb.seen[-1])  # exactly the 3 completed steps
    assert model.optimizer.iterations == 3
    assert np.all(np.isfinite(model.predict(x, verbose=0)))
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)  # and training resumes
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("exc_type", [Boom, KeyboardInterrupt])
def test_exception_inside_the_optimizer_step_leaves_no_half_applied_update(exc_type):
    model = make_model(optimizer="rmsprop")
    x, y = data()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    opt = model.optimizer
    before_w = model.get_weights()
    before_slots = [s.numpy().copy() for s in opt.variables]
    before_it = opt.iterations
    real = opt._update
    calls = []

    def failing(var, grad, slots, lr):
        calls.append(1)
        if len(calls) == 3:  # two parameters already stepped, the third half-way
            slots[0][...] = 123.0
            raise exc_type("injected")
        real(var, grad, slots, lr)

    opt._update = failing
    with pytest.raises(exc_type):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert len(calls) == 3
    assert weights_equal(model.get_weights(), before_w)
    assert weights_equal([s.numpy() for s in opt.variables], before_slots)
    assert opt.iterations == before_it
    del opt._update
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert not weights_equal(model.get_weights(), before_w)


@pytest.mark.skipif(not hasattr(signal, "raise_signal"), reason="needs signal.raise_signal")
def test_ctrl_c_between_overridden_parameter_updates_is_held_until_the_step_is_complete(monkeypatch):
    # An _update overridden on the class makes one Python call per parameter: Ctrl-C is held.
    # (The built-in step is one C++ call: see test_optimizers_multi.py for Ctrl-C during it.)
    model = make_model(optimizer="sgd")
    x, y = data(16)
    opt = model.optimizer
    calls = []
    # a SIGINT delivered after the first parameter's update
    orig_update = type(opt)._update

    def update_then_signal(self, var, grad, slots, lr):
        orig_update(self, var, grad, slots, lr)
        calls.append(1)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(type(opt), "_update", update_then_signal)
    before = model.get_weights()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    after = model.get_weights()
    assert len(calls) == len(before)  # every parameter was stepped before the interrupt surfaced
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    assert opt.iterations == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
