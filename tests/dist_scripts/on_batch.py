"""Run under mpirun -n 2 by tests/test_distributed.py: evaluate, then train_on_batch,
test_on_batch and predict_on_batch under a DataParallel, from ranks seeded apart, and on rank 0 the same calls in
one process from rank 0's initial weights (the reference). Prints one JSON line per rank."""
import gc
import json
import weakref

import numpy as np

import tensorlet as tl
from tensorlet import distribution
from tensorlet.keras import layers, models

dp = distribution.DataParallel()
rank = dp.rank
rng = np.random.default_rng(0)
x = rng.normal(size=(21, 6)).astype(np.float32)
y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=21)]
# global batches of 8 (4 rows a rank), 5 (3 and 2) and 1 (rank 1 has none)
BATCHES = [slice(0, 8), slice(8, 16), slice(16, 21), slice(20, 21), slice(0, 8)]


def make(dropout, seed):
    tl.random.seed(seed)
    model = models.Sequential([layers.Input((6,)), layers.Dense(16, activation="relu")] +
                              ([layers.Dropout(0.5)] if dropout else []) +
                              [layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def run(model):
    initial = [w.tolist() for w in model.get_weights()]
    # evaluate before any training: the ranks' models were seeded apart, so this is where
    # they first agree on rank 0's weights
    first = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    synced = [w.tolist() for w in model.get_weights()]
    logs = [model.train_on_batch(x[b], y[b], return_dict=True) for b in BATCHES]
    return {"initial": initial, "first": first, "synced": synced, "logs": logs, "weights": [w.tolist() for w in model.get_weights()],
            "test": model.test_on_batch(x, y, return_dict=True),
            "predict": model.predict_on_batch(x[:5]).tolist()}


class EqualByConfig(models.Sequential):
    """Models of one config compare (and hash) equal: the distribution must tell them apart by
    identity, or the second would pass as already synchronised."""

    def __eq__(self, other):
        return isinstance(other, EqualByConfig) and [type(layer) for layer in self.layers] == \
            [type(layer) for layer in other.layers]

    def __hash__(self):
        return hash(type(self).__name__)


distribution.set_distribution(dp)
report = {"rank": rank, "plain": run(make(False, 100 + rank)), "dropout": run(make(True, 200 + rank))}
twins = []
for seed in (300, 400):
    tl.random.seed(seed + rank)
    twins.append(EqualByConfig([layers.Input((6,)), layers.Dense(3, activation="softmax")]))
    twins[-1].compile(optimizer="sgd", loss="categorical_crossentropy")
assert twins[0] == twins[1]
twins[0].fit(x, y, batch_size=8, epochs=1, verbose=0)
twins[1].evaluate(x, y, verbose=0)  # must broadcast twins[1]'s own rank-0 weights
report["twin"] = [w.tolist() for w in twins[1].get_weights()]
# the distribution keeps no model alive (train_on_batch's function stays with the model's own)
gone = make(False, 100 + rank)
gone.train_on_batch(x[:8], y[:8])
gone.evaluate(x, y, verbose=0)
alive = weakref.ref(gone)
del gone
gc.collect()
report["freed"] = alive() is None
if rank == 0:  # one process, rank 0's initial weights (the ranks train from rank 0's: broadcast)
    distribution.set_distribution(None)
    report["reference"] = run(make(False, 100))
print(json.dumps(report), flush=True)
