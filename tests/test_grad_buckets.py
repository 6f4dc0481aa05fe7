"""The DataParallel gradient buckets (tensorlet._grad_buckets) and the overlapped replay of a
captured step (tensorlet.distribution._Overlap), in one process with a stand-in communicator
whose all-reduce over one rank keeps each buffer (and records what it was given, and when).
The real two-rank runs are in test_distributed.py."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import _grad_buckets, distribution
from tensorlet.capture import CapturedFunction


class FakeMPI:
    IN_PLACE, SUM = object(), object()

    class Request:
        @staticmethod
        def Testall(requests):
            return True

        @staticmethod
        def Waitall(requests):
            return None


class FakeComm:
    """Records (kind, a copy of the buffer) per collective: a sum over one rank changes nothing."""

    def __init__(self):
        self.calls = []

    def Allreduce(self, where, buffer, op):
        assert where is FakeMPI.IN_PLACE and op is FakeMPI.SUM
        self.calls.append(("blocking", buffer.copy()))

    def Iallreduce(self, where, buffer, op):
        assert where is FakeMPI.IN_PLACE and op is FakeMPI.SUM
        self.calls.append(("nonblocking", buffer.copy()))
        return object()


def variables(*shapes):
    rng = np.random.default_rng(0)
    return [tl.asarray(rng.normal(size=s).astype(np.float32)) for s in shapes]


def test_layout_reverse_order_big_gradients_alone_small_ones_packed_flags_first():
    vs = variables((4, 5), (5,), (5, 3), (3,), (2,))  # big = 10: the kernels are reduced on their own
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs, big=10)
    assert b.buckets == [([4, 3], np.float32), ([2], None), ([1], np.float32), ([0], None)]
    assert b._packs[0].size == 5 + 2 + 3  # the flags (one per variable), then the biases


def test_a_pack_ends_between_layers_once_it_holds_pack_min_elements():
    vs = variables((4, 5), (5,), (3, 3), (3,))  # two layers, [kernel, bias] each
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs, big=10, groups=[0, 0, 1, 1], pack_min=12)
    assert b.buckets == [([3, 2], np.float32), ([1], np.float32), ([0], None)]
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs, big=10, groups=[0, 0, 1, 1], pack_min=13)
    assert b.buckets == [([3, 2, 1], np.float32), ([0], None)]  # too small to go alone


def test_sums_land_in_place_scaled_and_a_missing_gradient_stays_missing():
    vs = variables((4, 5), (5,), (5, 3), (3,))
    comm = FakeComm()
    b = _grad_buckets.GradBuckets(comm, FakeMPI, vs, big=10)
    grads = [np.ones(tuple(v.shape), np.float32) * (i + 1) for i, v in enumerate(vs)]
    arrays = list(grads)
    arrays[1] = None  # this rank (the only one) has no gradient for variable 1
    b.begin(0.5)
    for k in range(len(b)):
        b.start(k, arrays, [a is not None for a in arrays])
    summed = b.finish()
    assert [kind for kind, _ in comm.calls] == ["nonblocking"] * 3 + ["blocking"]
    assert summed[1] is None
    for i in (0, 2, 3):
        assert summed[i] is arrays[i]  # in place: the gradient's own buffer holds the sum
        np.testing.assert_array_equal(summed[i], 0.5 * (i + 1))


def test_the_buckets_of_the_layer_backward_finishes_last_are_blocking():
    vs = variables((4, 5), (5,), (5, 3), (3,))  # two layers, [kernel, bias] each
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs, big=10, groups=[0, 0, 1, 1], pack_min=1)
    assert b.buckets == [([3], np.float32), ([2], None), ([1], np.float32), ([0], None)]
    assert b.blocking_from == 2
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs, big=10)  # each variable its own group
    assert b.blocking_from == 3


def test_a_tail_rides_at_the_end_of_the_last_pack_and_is_summed():
    vs = variables((4, 5), (5,))
    comm = FakeComm()
    b = _grad_buckets.GradBuckets(comm, FakeMPI, vs, big=100, tail=3)  # one pack: flags, grads, tail
    assert b.buckets == [([1, 0], np.float32)]
    arrays = [np.full((4, 5), 2, np.float32), np.full((5,), 3, np.float32)]
    b.begin(0.5)
    b.start_rest(arrays, [True, True], np.array([7, 8, 9], np.float32))
    b.finish()
    kind, given = comm.calls[0]
    assert kind == "blocking" and given.size == 2 + 5 + 20 + 3
    np.testing.assert_array_equal(given[-3:], [7, 8, 9])  # not scaled: the tail is summed as it is
    np.testing.assert_array_equal(b.tail_sum, [7, 8, 9])
    np.testing.assert_array_equal(arrays[0], 1)
    # the last bucket a gradient on its own buffer, or a pack of another dtype: the tail gets its own pack
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs, big=10, tail=2)
    assert b.buckets[-1] == ([], np.float32) and b.buckets[-2] == ([0], None)
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs, big=100, tail=2, tail_dtype=np.float64)
    # the pack holds the first variable's gradient (final last): blocking, as the tail's own pack
    assert b.buckets == [([1, 0], np.float32), ([], np.float64)] and b.blocking_from == 0
    b.begin(1.0)
    b.start_rest(arrays, [True, True])  # no tail given: zeros
    b.finish()
    np.testing.assert_array_equal(b.tail_sum, [0, 0])


def test_a_tail_rides_in_the_first_layers_bias_pack_before_its_kernel():
    """The chapter's layout: the last layer's pack is nonblocking; the first layer's bias pack and
    kernel are blocking, and the tail joins the bias pack instead of a third blocking all-reduce."""
    vs = variables((4, 5), (5,), (5, 3), (3,))
    comm = FakeComm()
    b = _grad_buckets.GradBuckets(comm, FakeMPI, vs, big=10, groups=[0, 0, 1, 1], pack_min=1, tail=2)
    assert b.buckets == [([3], np.float32), ([2], None), ([1], np.float32), ([0], None)]
    assert b.blocking_from == 2
    arrays = [np.full(tuple(v.shape), i + 1, np.float32) for i, v in enumerate(vs)]
    b.begin(1.0)
    b.start_rest(arrays, [True] * 4, np.array([5, 6], np.float32))
    b.finish()
    assert [kind for kind, _ in comm.calls] == ["nonblocking", "nonblocking", "blocking", "blocking"]
    np.testing.assert_array_equal(comm.calls[2][1], [2] * 5 + [5, 6])  # the bias, then the tail
    np.testing.assert_array_equal(b.tail_sum, [5, 6])


def test_below_overlap_min_every_bucket_is_blocking_and_packs_span_layers():
    vs = variables((4, 5), (5,), (5, 3), (3,))  # the second layer holds 15 + 3 elements
    kwargs = dict(big=16, groups=[0, 0, 1, 1], pack_min=1, tail=2)
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs, overlap_min=18, **kwargs)
    assert b.buckets == [([3, 2], np.float32), ([1], np.float32), ([0], None)]
    assert b.blocking_from == 1  # 18 elements: worth overlapping
    comm = FakeComm()
    b = _grad_buckets.GradBuckets(comm, FakeMPI, vs, overlap_min=19, **kwargs)
    assert b.buckets == [([3, 2, 1], np.float32), ([0], None)] and b.blocking_from == 0
    arrays = [np.full(tuple(v.shape), i + 1, np.float32) for i, v in enumerate(vs)]
    b.begin(1.0)
    b.start_rest(arrays, [True] * 4, np.array([5, 6], np.float32))
    summed = b.finish()
    assert [kind for kind, _ in comm.calls] == ["blocking"] * 2
    # the flags, the second layer's bias and kernel, the first layer's bias, the tail
    np.testing.assert_array_equal(comm.calls[0][1], [1] * 4 + [4] * 3 + [3] * 15 + [2] * 5 + [5, 6])
    for i in range(4):
        np.testing.assert_array_equal(summed[i], i + 1)
    np.testing.assert_array_equal(b.tail_sum, [5, 6])
    # every gradient big: the flags' own pack comes first, blocking too
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs[::2], big=1, groups=[0, 1], overlap_min=100)
    assert b.buckets == [([], np.float32), ([1], None), ([0], None)] and b.blocking_from == 0
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs[::2], big=1, groups=[0, 1])
    assert b.blocking_from == 2


def test_buckets_start_in_order_and_all_before_finish():
    vs = variables((4, 5), (5,))
    b = _grad_buckets.GradBuckets(FakeComm(), FakeMPI, vs, big=10)
    arrays = [np.ones(tuple(v.shape), np.float32) for v in vs]
    b.begin(1.0)
    with pytest.raises(RuntimeError, match="bucket 1 started before bucket 0"):
        b.start(1, arrays, [True, True])
    b.start(0, arrays, [True, True])
    with pytest.raises(RuntimeError, match="finish after 1 of 2 buckets"):
        b.finish()


def test_the_overlapped_replay_starts_each_bucket_once_its_gradients_are_final():
    """Three Dense layers, the first two kernels on their own, the rest packed per layer: the replay is cut after each layer's
    backward, every bucket starts with its final gradients (the ones a plain replay gives), the
    first ones before backward ends, and the gradients equal those of an unsegmented replay."""
    tl.random.seed(0)
    model = tl.keras.Sequential([tl.keras.layers.Input((6,)), tl.keras.layers.Dense(8, activation="relu"),
                                 tl.keras.layers.Dense(8, activation="relu"), tl.keras.layers.Dense(2)])
    weights = model.trainable_weights

    def step(x, y):
        for w in weights:
            w.grad = None
        loss = ((model(x, training=True) - y) ** 2).mean()
        loss.backward(inputs=weights)
        return loss

    captured = CapturedFunction(step)
    rng = np.random.default_rng(1)
    batches = [(rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=(5, 2)).astype(np.float32))
               for _ in range(3)]
    for x, y in batches[:2]:  # eager, then recorded
        captured(tl.asarray(x), tl.asarray(y))
    plan = next(iter(captured.plans.values()))
    comm = FakeComm()
    buckets = _grad_buckets.GradBuckets(comm, FakeMPI, weights, big=40, groups=[0, 0, 1, 1, 2, 2], pack_min=1)
    assert [m for m, _ in buckets.buckets] == [[5, 4], [3], [2], [1], [0]]
    assert buckets.blocking_from == 3  # the first layer's, final last: blocking, after the replay
    overlap = distribution._Overlap(plan, weights, buckets)
    assert all(f for f in overlap.flags) and len(overlap.cuts) == 2
    assert overlap.cuts[0][0] < overlap.cuts[-1][0] < len(plan)

    captured.replay_hook = lambda p, run: overlap.replay(p, run, buckets, 1.0)
    captured(tl.asarray(batches[2][0]), tl.asarray(batches[2][1]))
    assert [kind for kind, _ in comm.calls] == ["nonblocking"] * 3  # started inside the replay
    buckets.start_rest(overlap.arrays, overlap.flags)
    summed = buckets.finish()
    assert [kind for kind, _ in comm.calls] == ["nonblocking"] * 3 + ["blocking"] * 2
    segmented = [np.array(g) for g in overlap.grads]
    for k, (members, dtype) in enumerate(buckets.buckets):  # what each bucket was given when it started
        given = comm.calls[k][1]
        if dtype is None:
            np.testing.assert_array_equal(given, segmented[members[0]])
    for a, s in zip(summed, segmented):
        np.testing.assert_array_equal(a, s)

    captured.replay_hook = None  # the plain replay of the same batch: the same gradients
    captured(tl.asarray(batches[2][0]), tl.asarray(batches[2][1]))
    for w, s in zip(weights, segmented):
        np.testing.assert_array_equal(np.asarray(w.grad), s)


def test_replay_range_checks_its_bounds():
    plan = tl._core._capture.Plan()
    with pytest.raises(IndexError, match="replay_range"):
        plan.replay_range(0, 1)
    with pytest.raises(IndexError, match="replay_range"):
        plan.replay_range(1, 0)
    plan.replay_range(0, 0)
