"""A check shared by the kernel tests: results must not depend on the number of threads."""
import numpy as np

import tensorlet as tl


def assert_same_for_thread_counts(run, counts=(1, 2, 3)):
    """run() -> list of arrays, computed under each thread count in `counts`; all must be equal
    bit for bit (the kernels split work by shapes only and add partial sums in a fixed order)."""
    before = tl.get_num_threads()
    results = []
    try:
        for n in counts:
            tl.set_num_threads(n)
            results.append([np.array(a, copy=True) for a in run()])
    finally:
        tl.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
