"""Run under mpirun -n 2 by tests/test_distributed.py: fit, evaluate and predict on data whose NaNs
and infinities are all in rank 1's half of the rows. Each rank checks only its half; both must
warn as one process would. Prints one JSON line per rank: per call, the warnings and the row
counts of the arrays it checked."""
import json
import warnings

import numpy as np

from tensorlet import _data, distribution
from tensorlet.keras import layers, models

dp = distribution.DataParallel()
distribution.set_distribution(dp)
checked = []
non_finite = _data._non_finite


def counting(arr):
    checked.append(int(arr.shape[0]))
    return non_finite(arr)


_data._non_finite = counting
x = np.zeros((64, 5), np.float32)
x[40, 1], x[50, 3] = np.inf, np.nan  # rows 32..63 are rank 1's
y = np.eye(2, dtype=np.float32)[np.arange(64) % 2]
y[63, 0] = np.nan
model = models.Sequential([layers.Input((5,)), layers.Dense(2, activation="softmax")])
model.compile(optimizer="sgd", loss="categorical_crossentropy")
calls = {"fit": lambda: model.fit(x, y, batch_size=16, epochs=1, verbose=0),
         "evaluate": lambda: model.evaluate(x, y, batch_size=16, verbose=0),
         "predict": lambda: model.predict(x, batch_size=16, verbose=0)}
report = {"rank": dp.rank}
for name, call in calls.items():
    checked.clear()
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        call()
    report[name] = {"warnings": [str(w.message) for w in got if issubclass(w.category, RuntimeWarning)],
                    "checked": list(checked)}
print(json.dumps(report), flush=True)
