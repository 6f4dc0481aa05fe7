"""Thread pool: thread-count control, environment variables, fork safety, concurrent callers."""
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import _core

PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(tl.__file__)))


def run_python(code, timeout=60, **env_overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TENSORLET_NUM_THREADS", "OMP_NUM_THREADS", "TENSORLET_ISA")}
    env["PYTHONPATH"] = PKG_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def restore_threads():
    before = tl.get_num_threads()
    yield
    tl.set_num_threads(before)


def test_set_get_num_threads(restore_threads):
    for n in (1, 3, 2):
        tl.set_num_threads(n)
        assert tl.get_num_threads() == n
        assert tl.config()["num_threads"] == n
    for bad in (0, -1):
        with pytest.raises(ValueError):
            tl.set_num_threads(bad)
    assert tl.get_num_threads() == 2


def test_environment_variables():
    code = "import tensorlet as tl; print(tl.get_num_threads(), tl.config()['isa'])"
    r = run_python(code, TENSORLET_NUM_THREADS="3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "3"
    r = run_python(code, OMP_NUM_THREADS="5")
    assert r.stdout.split()[0] == "5", r.stderr
    r = run_python(code, OMP_NUM_THREADS="5", TENSORLET_NUM_THREADS="1")
    assert r.stdout.split()[0] == "1", r.stderr
    r = run_python(code)  # default: the CPUs this process may run on
    assert r.stdout.split()[0] == str(len(os.sched_getaffinity(0))), r.stderr
    r = run_python(code, TENSORLET_ISA="generic")
    assert r.stdout.split()[1] == "generic", r.stderr
    r = run_python(code, TENSORLET_ISA="bogus")
    assert r.returncode == 0 and "TENSORLET_ISA" in r.stderr
    assert r.stdout.split()[1] == tl.config()["available_isas"][-1]


def test_fork_child_runs_kernels():
    # Parent uses the pool, forks; both then run threaded GEMMs. Must finish, not hang.
    code = """
        import os, numpy as np, tensorlet as tl
        from tensorlet import _core
        tl.set_num_threads(2)
        a = np.random.rand(300, 200).astype(np.float32); b = np.random.rand(200, 400).astype(np.float32)
        def run():
            c = np.empty((300, 400), np.float32)
            _core._gemm(a, b, c)
            return np.allclose(c, a.astype(np.float64) @ b, rtol=1e-4)
        assert run()
        pid = os.fork()
        if pid == 0:
            ok = run() and run()
            os._exit(0 if ok else 3)
        assert run()
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        print("ok")
    """
    r = run_python(code, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_concurrent_python_threads(restore_threads):
    tl.set_num_threads(2)
    errors = []

    def worker(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(5):
                a = rng.random((150, 120))
                b = rng.random((120, 170))
                c = np.empty((150, 170))
                _core._gemm(a, b, c)
                np.testing.assert_allclose(c, a @ b, rtol=1e-12)
        except Exception as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in ts), "a kernel call hung"
    assert not errors, errors
