"""gradcheck: compares autograd gradients with central finite differences in float64."""
import numpy as np

import tensorlet as tl


def numerical_grad(f, arrays, index, eps=1e-6):
    """d(sum(f(*arrays) * w))/d arrays[index] by central differences, w fixed random weights."""
    base = [np.array(a, dtype=np.float64) for a in arrays]
    x = base[index]
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    weights = None
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        plus = np.asarray(f(*[tl.array(a) for a in base]), dtype=np.float64)
        x[i] = old - eps
        minus = np.asarray(f(*[tl.array(a) for a in base]), dtype=np.float64)
        x[i] = old
        if weights is None:
            weights = np.random.RandomState(1).uniform(0.5, 1.5, size=plus.shape)
        grad[i] = np.sum((plus - minus) * weights) / (2 * eps)
    return grad, weights


def gradcheck(f, *arrays, rtol=1e-5, atol=1e-7):
    """Checks autograd of f (Tensor inputs -> Tensor) at float64 arrays against finite differences."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    inputs = [tl.array(a, requires_grad=True) for a in arrays]
    out = f(*inputs)
    weights = np.random.RandomState(1).uniform(0.5, 1.5, size=np.asarray(out).shape)
    out.backward(tl.array(weights))
    for k, t in enumerate(inputs):
        num, _ = numerical_grad(f, arrays, k)
        assert t.grad is not None, f"input {k} got no gradient"
        np.testing.assert_allclose(np.asarray(t.grad), num, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {k} differs from finite differences")
