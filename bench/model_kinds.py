"""One epoch of fit for the same network written three ways (Sequential, functional, subclassed
Model), interleaved in one process: all three go through the trainer's captured step, so their
times should match. Also a functional model with a branch (two Dense heads concatenated).

    PYTHONPATH=python python bench/model_kinds.py
"""
import numpy as np

from _timing import fmt_time, interleaved, median
from tensorlet import keras
from tensorlet.keras import layers

N, D, H, C = 4096, 256, 256, 10
rng = np.random.RandomState(0)
X = rng.rand(N, D).astype(np.float32)
Y = rng.randint(0, C, N)


def stack():
    # Every kind takes the trainer's captured step.
    return [layers.Dense(H, activation="relu"), layers.Dropout(0.1), layers.Dense(C, activation="softmax")]


def sequential():
    return keras.Sequential([keras.Input((D,))] + stack())


def functional():
    x = inp = keras.Input((D,))
    for layer in stack():
        x = layer(x)
    return keras.Model(inp, x)


class Sub(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden, self.drop, self.out = stack()

    def call(self, x, training=None):
        return self.out(self.drop(self.hidden(x), training=training))


def branched():
    inp = keras.Input((D,))
    a = layers.Dense(H // 2, activation="relu")(inp)
    b = layers.Dense(H // 2, activation="relu")(inp)
    h = layers.Dropout(0.1)(layers.Concatenate()([a, b]))
    return keras.Model(inp, layers.Dense(C, activation="softmax")(h))


models = {"sequential": sequential(), "functional": functional(), "subclassed": Sub(), "branched": branched()}
for m in models.values():
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
fns = {name: (lambda m=m: m.fit(X, Y, batch_size=128, epochs=1, verbose=0)) for name, m in models.items()}
times = interleaved(fns, repeats=7, warmup=2)
base = median(times["sequential"])
for name, ts in times.items():
    print(f"{name:12s} median {fmt_time(median(ts))} per epoch  ({median(ts) / base:.2f}x sequential)")
