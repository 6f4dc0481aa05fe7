"""Run under mpirun -n 2 by tests/test_distributed.py: trains, evaluates and predicts under a
DataParallel, and on rank 0 also trains one process on the same global batches (the
reference); writes each rank's results to OUT/rank<r>.npz for the test to compare.

Usage: train.py OUT
"""
import os
import sys

import numpy as np

import tensorlet as tl
from tensorlet import distribution
from tensorlet.keras import callbacks, layers, models

out = sys.argv[1]
# Kernels (192 and 48 elements) all-reduced in place on their own buffers, the biases in a bucket:
# both paths are exercised.
distribution.BUCKET_MIN_ELEMENTS = 40
# The cases below overlap their small buckets with backward; the runs after them take the
# default, under which these small models' buckets are all blocking after the step.
distribution.OVERLAP_MIN_ELEMENTS = 0
dp = distribution.DataParallel()
rank = dp.rank
distribution.set_distribution(dp)

rng = np.random.default_rng(0)
# 257 rows at batch 64: the last global batch has one row, so rank 1 has none in it.
x = rng.normal(size=(257, 12)).astype(np.float32)
labels = rng.integers(0, 3, size=257)
y = np.eye(3, dtype=np.float32)[labels]

# The ways a step runs: the captured step (the chapter's fused softmax cross-entropy, and mse)
# and the eager step (run_eagerly).
CASES = {"crossentropy": dict(loss="categorical_crossentropy"), "captured": dict(loss="mse"),
         "eager": dict(loss="categorical_crossentropy", run_eagerly=True)}


def make(case):
    tl.random.seed(100 + rank)  # ranks start from different weights: fit broadcasts rank 0's
    model = models.Sequential([layers.Input((12,)), layers.Dense(16, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="rmsprop", metrics=["accuracy"], **CASES[case])
    return model


class BatchLogs(callbacks.Callback):
    """Every per-batch log (loss, accuracy) of fit, or of evaluate with hook="on_test_batch_end",
    as the progress bar and callbacks see them."""

    def __init__(self, hook="on_train_batch_end"):
        super().__init__()
        self.rows = []
        setattr(self, hook, self._record)  # an instance hook counts as an override

    def _record(self, batch, logs=None):
        self.rows.append([float(logs["loss"]), float(logs["accuracy"])])


results = {}
for case in CASES:
    model = make(case)
    model.build((None, 12))
    results[f"{case}_initial"] = np.concatenate([w.ravel() for w in model.get_weights()])
    if rank == 0:  # the reference: one process, rank 0's initial weights, the same global batches
        reference = make(case)
        reference.set_weights(model.get_weights())
        distribution.set_distribution(None)
        reference_logs = BatchLogs()
        reference.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0, callbacks=[reference_logs])
        results[f"{case}_reference"] = np.concatenate([w.ravel() for w in reference.get_weights()])
        results[f"{case}_reference_batch_logs"] = np.array(reference_logs.rows)
        results[f"{case}_reference_eval"] = np.array(reference.evaluate(x, y, batch_size=50, verbose=0))
        distribution.set_distribution(dp)
    batch_logs = BatchLogs()
    history = model.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0, callbacks=[batch_logs])
    results[f"{case}_batch_logs"] = np.array(batch_logs.rows)
    results[f"{case}_weights"] = np.concatenate([w.ravel() for w in model.get_weights()])
    results[f"{case}_history_loss"] = np.array(history.history["loss"])
    # batch 64: rank 0's 129 rows take 5 local batches of 32, rank 1's 128 rows 4; only rank 0
    # reads per-batch logs (as only rank 0 has a progress bar)
    test_logs = BatchLogs("on_test_batch_end")
    results[f"{case}_eval"] = np.array(model.evaluate(x, y, batch_size=50, verbose=0))
    results[f"{case}_eval_64"] = np.array(model.evaluate(x, y, batch_size=64, verbose=0,
                                                         callbacks=[test_logs] if rank == 0 else []))
    results[f"{case}_test_batch_logs"] = np.array(test_logs.rows)
    results[f"{case}_predict"] = model.predict(x, batch_size=50, verbose=0)
    results[f"{case}_local_predict"] = np.asarray(model(tl.asarray(x)))
    step = getattr(model.train_function, "step", None)
    results[f"{case}_replays"] = np.array(step.stats()["replays"] if hasattr(step, "stats") else -1)
    results[f"{case}_overlapped"] = np.array(dp.overlapped_steps)
    dp.overlapped_steps = 0

# 255 rows: the last global batch (63 rows) splits 32/31, so rank 0 replays its 32-row step with
# another share of the rows (32/63, not 32/64): the gradient scale is read at each replay.
distribution.OVERLAP_MIN_ELEMENTS = 1 << 16
overlapped = dp.overlapped_steps
model = make("crossentropy")
if rank == 0:
    reference = make("crossentropy")
    reference.set_weights(model.get_weights())
    distribution.set_distribution(None)
    reference.fit(x[:255], y[:255], batch_size=64, epochs=2, shuffle=False, verbose=0)
    results["uneven_reference"] = np.concatenate([w.ravel() for w in reference.get_weights()])
    distribution.set_distribution(dp)
model.fit(x[:255], y[:255], batch_size=64, epochs=2, shuffle=False, verbose=0)
results["uneven_weights"] = np.concatenate([w.ravel() for w in model.get_weights()])
results["uneven_overlapped"] = np.array(dp.overlapped_steps - overlapped)
results["uneven_replays"] = np.array(model.train_function.step.stats()["replays"])

# Shuffled, with validation, progress printed (rank 0 only) and a weights file (rank 0 only).
model = make("crossentropy")
model.fit(x, y, batch_size=64, epochs=2, validation_split=0.2, verbose=2)
results["shuffled_weights"] = np.concatenate([w.ravel() for w in model.get_weights()])
model.save_weights(os.path.join(out, f"weights_rank{rank}.weights.npz"))


# Two inputs and two outputs (a functional model): sharded per input and output, predict gathered
# per output.
def make_multi():
    tl.random.seed(200 + rank)
    a, b = layers.Input((12,)), layers.Input((4,))
    h = layers.Dense(8, activation="relu")(layers.Concatenate()([a, b]))
    model = models.Model([a, b], [layers.Dense(3, activation="softmax")(h), layers.Dense(1)(h)])
    model.compile(optimizer="adam", loss=["categorical_crossentropy", "mse"])
    return model


x2 = rng.normal(size=(257, 4)).astype(np.float32)
y2 = x2.sum(axis=1, keepdims=True)
model = make_multi()
if rank == 0:
    reference = make_multi()
    reference.set_weights(model.get_weights())
    distribution.set_distribution(None)
    reference.fit([x, x2], [y, y2], batch_size=64, epochs=2, shuffle=False, verbose=0)
    results["multi_reference"] = np.concatenate([w.ravel() for w in reference.get_weights()])
    distribution.set_distribution(dp)
model.fit([x, x2], [y, y2], batch_size=64, epochs=2, shuffle=False, verbose=0)
results["multi_weights"] = np.concatenate([w.ravel() for w in model.get_weights()])
predicted = model.predict([x, x2], batch_size=50, verbose=0)
local = model([tl.asarray(x), tl.asarray(x2)])
results["multi_predict"] = np.concatenate([p.ravel() for p in predicted])
results["multi_local_predict"] = np.concatenate([np.asarray(p).ravel() for p in local])

# A model fitted alone first (its captured step then holds the optimizer's update) and then under
# the distribution: the step is made anew, so the ranks still end with the same weights.
model = make("crossentropy")
distribution.set_distribution(None)
model.fit(x[rank::2], y[rank::2], batch_size=32, epochs=1, verbose=0)
distribution.set_distribution(dp)
model.fit(x, y, batch_size=64, epochs=1, verbose=0)
results["refit_weights"] = np.concatenate([w.ravel() for w in model.get_weights()])

# A callback given to rank 1 only stops training after batch 1: every rank stops at that batch.
class StopAfterBatch1(callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            self.model.stop_training = True


model = make("crossentropy")
model.fit(x, y, batch_size=64, epochs=2, verbose=0, callbacks=[StopAfterBatch1()] if rank == 1 else [])
results["stopped_weights"] = np.concatenate([w.ravel() for w in model.get_weights()])
results["stopped_iterations"] = np.array(int(model.optimizer.iterations))
# After fit's reseeding, each rank draws its own random numbers (dropout masks differ).
results["draw"] = np.asarray(tl.random.uniform(size=(8,)))
np.savez(os.path.join(out, f"rank{rank}.npz"), **results)
