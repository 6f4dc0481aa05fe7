"""CapturedFunction.call_rows: the trainer's batches gathered straight into a replayed plan's
inputs (capture.run_rows), against the same step on ``batch.data()`` and NumPy."""
import warnings

import numpy as np

import tensorlet as tl
from tensorlet import capture
from tensorlet._epoch_iterator import EpochIterator


def data(n=50):
    rng = np.random.default_rng(0)
    return tl.asarray(rng.normal(size=(n, 4)).astype(np.float32)), tl.asarray(rng.normal(size=(n, 2)).astype(np.float32))


def test_shuffled_and_sliced_batches_replay_from_the_rows_and_match_numpy(monkeypatch):
    x, y = data()
    w = np.arange(8, dtype=np.float32).reshape(4, 2) / 8

    def step(batch):
        bx, by = batch
        return (bx @ tl.asarray(w) - by).sum(axis=1), by * 2

    f = capture.CapturedFunction(step)
    gathered = []
    run_rows = capture._C.run_rows
    monkeypatch.setattr(capture._C, "run_rows", lambda *a: gathered.append(a[4]) or run_rows(*a), raising=False)
    for shuffle in (True, False):
        tl.random.seed(1)
        iterator = EpochIterator((x, y), 8, shuffle=shuffle)
        for epoch in range(2):
            for _, _, batch in iterator:
                rows = np.asarray(batch.index)[batch.start:batch.stop] if shuffle else slice(batch.start, batch.stop)
                got = f.call_rows(batch)
                np.testing.assert_allclose(np.asarray(got[0]), (np.asarray(x)[rows] @ w - np.asarray(y)[rows]).sum(1),
                                           rtol=1e-6, atol=1e-6)
                np.testing.assert_array_equal(np.asarray(got[1]), np.asarray(y)[rows] * 2)
    # 6 batches of 8 rows and one of 2 per epoch. First iterator: the 8-row signature runs eagerly,
    # is captured, then replays from the rows (4 + 6); the 2-row one is eager, then captured.
    # Second iterator: one call per signature goes through data() and finds the plan (noted for
    # the iterator's batches), the rest replay from the rows (5 + 6, and 1 of 2 rows).
    assert len(gathered) == 4 + 6 + 5 + 6 + 1
    assert f.stats()["plans"] == 2


def test_a_replay_mismatch_on_the_rows_path_runs_the_batch_eagerly():
    x = tl.asarray(np.array([[1.0], [-1.0], [2.0], [-2.0], [3.0], [4.0]], np.float32))

    def positives(batch):  # shapes that depend on the data
        (bx,) = batch
        return bx[bx > 0] * 1

    f = capture.CapturedFunction(positives)
    iterator = EpochIterator((x,), 2)
    batches = [b for _, _, b in iterator]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        results = [np.asarray(f.call_rows(b)).ravel().tolist() for b in batches + batches]
    assert results == [[1.0], [2.0], [3.0, 4.0]] * 2
