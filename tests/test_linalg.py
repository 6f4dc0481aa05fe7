"""csrc/ops/linalg: matmul and dot against NumPy (shapes, batch broadcasting, 1-D promotion,
empty dims, transposed views reaching the GEMM as flags), their errors and gradients."""
import numpy as np
import pytest

import tensorlet as tl
from conftest import assert_tensor_equal
from gradcheck import gradcheck


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                   ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (4, 3, 2)),
                                   ((0, 3), (3, 2)), ((2, 0), (0, 3))])
def test_matmul_matches_numpy(sa, sb):
    a, b = np.random.randn(*sa), np.random.randn(*sb)
    assert_tensor_equal(tl.matmul(tl.array(a), tl.array(b)), np.matmul(a, b), rtol=1e-10)


def test_matmul_of_transposed_views():
    a = np.random.randn(7, 5).astype(np.float32)
    t = tl.asarray(a)
    assert_tensor_equal(t.T @ t, a.T @ a, rtol=1e-5, atol=1e-5)
    assert_tensor_equal(t @ t.T, a @ a.T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sa,sb", [((), (3,)), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 4, 3), (3,)),
                                   ((2, 4, 3), (5, 3, 2))])
def test_dot_matches_numpy(sa, sb):
    a, b = np.random.randn(*sa), np.random.randn(*sb)
    assert_tensor_equal(tl.dot(tl.array(a), tl.array(b)), np.dot(a, b), rtol=1e-10)


def test_matmul_shape_error():
    with pytest.raises(ValueError, match=r"\(3,4\) and \(5,6\)"):
        tl.matmul(tl.array(np.ones((3, 4))), tl.array(np.ones((5, 6))))


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 2, 3), (3, 2)),
                                   ((2, 1, 2, 3), (3, 3, 2))])
def test_matmul_gradients(sa, sb):
    gradcheck(tl.matmul, np.random.randn(*sa), np.random.randn(*sb))
