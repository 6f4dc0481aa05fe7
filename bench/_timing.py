"""Shared benchmark helpers: interleaved timing of several implementations, medians, ratios.

The machine is shared and noisy, so every peer is timed in the same run, round-robin, and
we report medians (and best) rather than single times.
"""
import statistics
import time


def interleaved(fns, repeats=15, number=1, warmup=2, clock=time.perf_counter):
    """fns: dict name -> zero-arg callable. Returns dict name -> list of seconds per call.
    clock: time.perf_counter (wall), or time.process_time (this process's CPU time: steadier on
    a loaded machine, but it adds up the time of every thread)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = clock()
            for _ in range(number):
                fn()
            times[name].append((clock() - t0) / number)
    return times


def median(xs):
    return statistics.median(xs)


def fmt_time(s):
    if s < 1e-6:
        return f"{s * 1e9:8.1f} ns"
    if s < 1e-3:
        return f"{s * 1e6:8.2f} us"
    return f"{s * 1e3:8.2f} ms"


def try_import(name):
    try:
        return __import__(name)
    except Exception:
        return None
