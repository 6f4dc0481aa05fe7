"""Learning-rate schedules against values worked out by hand from Keras 3's formulas."""
import math

import pytest

from tensorlet import keras
from tensorlet.optimizers import schedules

S = schedules
CASES = [
    (S.ExponentialDecay(0.1, 10, 0.5), [(0, 0.1), (5, 0.1 * 0.5 ** 0.5), (20, 0.025)]),
    (S.ExponentialDecay(0.1, 10, 0.5, staircase=True), [(9, 0.1), (15, 0.05)]),
    (S.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]), [(0, 1.0), (10, 1.0), (11, 0.5), (20, 0.5), (21, 0.1)]),
    (S.PolynomialDecay(0.1, 10, 0.01, power=2.0), [(0, 0.1), (5, 0.0325), (20, 0.01)]),
    (S.PolynomialDecay(0.1, 10, 0.01, power=2.0, cycle=True), [(0, 0.1), (15, 0.09 * 0.0625 + 0.01)]),
    (S.PolynomialDecay(0.1, 10), [(5, (0.1 - 0.0001) * 0.5 + 0.0001)]),
    (S.InverseTimeDecay(0.1, 10, 0.5), [(5, 0.08), (15, 0.1 / 1.75)]),
    (S.InverseTimeDecay(0.1, 10, 0.5, staircase=True), [(15, 0.1 / 1.5)]),
    (S.CosineDecay(0.1, 10), [(0, 0.1), (5, 0.05), (10, 0.0), (30, 0.0)]),
    (S.CosineDecay(0.1, 10, alpha=0.1), [(10, 0.01), (5, 0.1 * (0.9 * 0.5 + 0.1))]),
    (S.CosineDecay(0.0, 10, warmup_target=0.2, warmup_steps=4), [(0, 0.0), (2, 0.1), (4, 0.2), (9, 0.1),
                                                                  (100, 0.0)]),
    (S.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5), [(5, 0.5), (10, 0.5), (20, 0.25)]),
    (S.CosineDecayRestarts(1.0, 10, t_mul=1.0, m_mul=0.5), [(15, 0.25), (20, 0.25)]),
]


@pytest.mark.parametrize("schedule,points", CASES, ids=[f"{type(c[0]).__name__}{i}" for i, c in enumerate(CASES)])
def test_values(schedule, points):
    for step, expected in points:
        assert math.isclose(schedule(step), expected, rel_tol=1e-12, abs_tol=1e-15), (step, schedule(step))


@pytest.mark.parametrize("schedule", [c[0] for c in CASES])
def test_serialize_round_trip(schedule):
    clone = S.deserialize(S.serialize(schedule))
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()


@pytest.mark.parametrize("bad", [lambda: S.ExponentialDecay(0.1, 0, 0.5), lambda: S.CosineDecay(0.1, -1),
                                 lambda: S.PiecewiseConstantDecay([1, 2], [1.0]),
                                 lambda: S.PiecewiseConstantDecay([2, 1], [1.0, 2.0, 3.0]),
                                 lambda: S.deserialize({"class_name": "Nope", "config": {}})])
def test_bad_arguments_are_value_errors(bad):
    with pytest.raises(ValueError):
        bad()


def test_keras_namespace():
    assert keras.optimizers.schedules.CosineDecay is S.CosineDecay
