"""Run under mpirun -n 2 by tests/test_distributed.py: rank 1 raises in the middle of fit
(``raise``), is killed (``kill``), or builds a different model (``config``); or test_on_batch of
one row leaves rank 1 without rows for a metric that builds its state at its first update
(``lazy_metric``). The job must end with an error naming the rank, never hang."""
import os
import signal
import sys

import numpy as np

from tensorlet import distribution
from tensorlet.keras import callbacks, layers, models

mode = sys.argv[1]
dp = distribution.DataParallel()
distribution.set_distribution(dp)


class FailOnRank1(callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if dp.rank == 1 and batch == 2:
            if mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("injected failure on rank 1")


if mode == "lazy_metric":
    from tensorlet.keras import metrics

    model = models.Sequential([layers.Input((4,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse", metrics=[metrics.R2Score()])
    model.test_on_batch(np.ones((1, 4), np.float32), np.ones((1, 2), np.float32))
    print("test_on_batch returned on rank", dp.rank)
    sys.exit(0)
units = 16 + (dp.rank if mode == "config" else 0)
model = models.Sequential([layers.Input((12,)), layers.Dense(units, activation="relu"),
                           layers.Dense(3, activation="softmax")])
model.compile(optimizer="sgd", loss="categorical_crossentropy")
x = np.zeros((256, 12), np.float32)
y = np.eye(3, dtype=np.float32)[np.zeros(256, int)]
model.fit(x, y, batch_size=32, epochs=50, verbose=0, callbacks=[FailOnRank1()] if mode != "config" else [])
print("fit returned on rank", dp.rank)
