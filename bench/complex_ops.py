"""complex64 / complex128 ops against NumPy on 1M elements (matmul on 256 x 256): arithmetic,
abs, exp, sqrt, sum, casts and matmul (tensorlet's is four float GEMMs of the parts).

    python bench/complex_ops.py [--threads 1] [--repeats 9] [--cpu-time]

Peers are timed round-robin in one process (interleaved), medians printed with the ratio
tensorlet-time / NumPy-time (< 1: tensorlet is faster), as bench/array_api_ops.py.
"""
import numpy as np

import tensorlet as tl
from array_api_ops import report, setup


def cases(a_np, b_np, m_np):
    a, b, m = tl.asarray(a_np), tl.asarray(b_np), tl.asarray(m_np)
    out = {}
    for name in ("add", "multiply", "divide"):
        out[name] = {"tensorlet": (lambda f=getattr(tl, name): f(a, b)), "numpy": (lambda f=getattr(np, name): f(a_np, b_np))}
    for name in ("abs", "exp", "sqrt", "sum"):
        out[name] = {"tensorlet": (lambda f=getattr(tl, name): f(a)), "numpy": (lambda f=getattr(np, name): f(a_np))}
    out["astype(float32 -> complex)"] = {"tensorlet": lambda: tl.real(a).astype(a_np.dtype),
                                         "numpy": lambda: a_np.real.astype(a_np.dtype)}
    out["matmul 256"] = {"tensorlet": lambda: m @ m, "numpy": lambda: m_np @ m_np}
    return out


def main():
    args, clock = setup(__doc__)
    rng = np.random.default_rng(0)
    for dt in ("complex64", "complex128"):
        def draw(*shape):
            return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
        report(dt, cases(draw(args.n), draw(args.n), draw(256, 256)), args.repeats, clock)


if __name__ == "__main__":
    main()
