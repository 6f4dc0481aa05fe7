"""The core functions the Keras-style layer calls. While some have not landed, the model-level
tests are skipped with a reason naming them (``pytest -rs`` lists it), instead of failing."""
import numpy as np
import pytest

import tensorlet as tl

FUNCTIONS = [
    "zeros", "ones", "full", "arange", "where", "clip", "exp", "log", "abs", "square", "maximum", "tanh",
    "relu", "sigmoid", "softmax", "mean", "argmax", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
]
RANDOM = ["seed", "normal", "uniform", "permutation"]


def missing(functions=FUNCTIONS, random=RANDOM, tensor_methods=True):
    names = [f"tl.{n}" for n in functions if not hasattr(tl, n)]
    rand = getattr(tl, "random", None)
    names += [f"tl.random.{n}" for n in random if not hasattr(rand, n)]
    t = tl.array(np.zeros(2, np.float32))
    probes = (("Tensor.__getitem__", lambda: t[0:1]), ("Tensor.__lt__", lambda: t < 1)) if tensor_methods else ()
    for label, probe in probes:
        try:
            probe()
        except Exception:
            names.append(label)
    return names


def requires(functions=FUNCTIONS, random=RANDOM, tensor_methods=True):
    gone = missing(functions, random, tensor_methods)
    return pytest.mark.skipif(bool(gone), reason=f"core functions not landed yet: {', '.join(gone)}")
