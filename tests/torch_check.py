"""Shared by the optional PyTorch cross-checks (test_torch_crosscheck_*.py), which skip
themselves when torch is not importable before calling these."""
import numpy as np

import tensorlet as tl


def torch_leaf(a):
    """A float64 torch leaf that records its gradient."""
    import torch
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def check_against_torch(ours, theirs, tensors, torch_tensors, g):
    """Forward equal, then the gradients of sum(out * g) equal for every input."""
    import torch
    np.testing.assert_allclose(np.asarray(ours), theirs.detach().numpy(), rtol=1e-10, atol=1e-10)
    ours.backward(tl.array(g))
    theirs.backward(torch.tensor(g))
    for a, b in zip(tensors, torch_tensors):
        np.testing.assert_allclose(np.asarray(a.grad), b.grad.numpy(), rtol=1e-10, atol=1e-10)
