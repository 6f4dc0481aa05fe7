"""PyTorch's autograd users' API: backward(gradient=/inputs=), requires_grad_, retain_grad,
register_hook, tl.autograd.grad (pruned pass, create_graph, allow_unused), no_grad as a bare
decorator, inference_mode, detach_, grad_fn node objects and names. Gradients are checked
against central differences in float64 (gradcheck.numerical_grad) or closed forms."""
import threading

import numpy as np
import pytest

import tensorlet as tl
from gradcheck import numerical_grad


def leaf(values):
    return tl.array(np.asarray(values, dtype=np.float64), requires_grad=True)


# -- backward(gradient=..., grad=..., retain_graph=None, inputs=...) -----------------------------
def test_backward_gradient_keyword_and_old_grad_keyword():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(gradient=tl.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(np.asarray(x.grad), [2.0, 40.0, 600.0])
    x.grad = None
    (x * x).backward(grad=tl.array([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(np.asarray(x.grad), [2.0, 4.0, 6.0])


def test_backward_rejects_gradient_and_grad_together():
    x = leaf([1.0])
    with pytest.raises(TypeError, match="both gradient= and grad="):
        (x * 2).backward(gradient=tl.array([1.0]), grad=tl.array([1.0]))
    assert x.grad is None


def test_retain_graph_defaults_to_create_graph():
    x = leaf([2.0])
    y = (x * x * x).sum()
    y.backward(create_graph=True)  # keeps the graph, as PyTorch
    y.backward()
    np.testing.assert_allclose(np.asarray(x.grad.detach()), [24.0])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_inputs_accumulates_only_into_them():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_array_equal(np.asarray(a.grad), [3.0, 4.0])
    assert b.grad is None
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (a * b).sum().backward(inputs=[])


def test_backward_inputs_non_leaf_gets_its_grad():
    x = leaf([1.0, 2.0])
    h = x * x
    (h * 3).sum().backward(inputs=[h])
    np.testing.assert_array_equal(np.asarray(h.grad), [3.0, 3.0])
    assert x.grad is None


def test_create_graph_with_retain_graph_false_frees_the_first_graph():
    # as PyTorch: allowed; the gradient's graph stays usable where it does not pass through the
    # freed nodes (here it reaches only the leaf x)
    x = leaf([2.0])
    y = (x * x).sum()
    (g,) = tl.autograd.grad(y, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    g.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [2.0])


def test_autograd_backward_several_roots():
    x = leaf([1.0, 2.0])
    tl.autograd.backward([(x * x).sum(), (x * 3).sum()])
    np.testing.assert_array_equal(np.asarray(x.grad), [5.0, 7.0])


# -- requires_grad_, detach_ -------------------------------------------------------------------------
def test_requires_grad_returns_self_and_validates():
    x = tl.array([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    assert x.requires_grad_(False) is x and not x.requires_grad
    with pytest.raises(TypeError, match="only float"):
        tl.array([1, 2]).requires_grad_()
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_detach_in_place_makes_a_leaf_and_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 3
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    z = (y * x).sum()
    z.backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [3.0, 6.0])  # y is a constant now


# -- retain_grad ---------------------------------------------------------------------------------------
def test_retain_grad_fills_a_non_leaf_grad_and_accumulates():
    x = leaf([1.0, 2.0])
    y = x * x
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad
    z = (y * y).sum()
    z.backward(retain_graph=True)
    np.testing.assert_allclose(np.asarray(y.grad), 2 * np.array([1.0, 4.0]))
    z.backward()
    np.testing.assert_allclose(np.asarray(y.grad), 4 * np.array([1.0, 4.0]))
    x2 = leaf([1.0])
    x2.retain_grad()  # a leaf: nothing to do
    assert not x2.retains_grad
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        tl.array([1.0]).retain_grad()


def test_non_leaf_grad_stays_none_without_retain_grad():
    x = leaf([1.0])
    y = x * 2
    (y * y).sum().backward()
    assert y.grad is None


# -- register_hook -------------------------------------------------------------------------------------
def test_hook_on_non_leaf_replaces_the_gradient_before_it_flows_on():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(np.asarray(g).copy()))
    y.register_hook(lambda g: g * 10)
    y.register_hook(lambda g: seen.append(np.asarray(g).copy()))  # sees the replacement: in order
    (y * tl.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(seen[0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(seen[1], [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(np.asarray(x.grad), 2 * np.array([1.0, 2.0, 3.0]) * [10.0, 20.0, 30.0])


def test_hook_runs_once_on_the_summed_gradient_of_a_leaf_before_accumulation():
    x = leaf([1.0, 2.0])
    x.grad = tl.array([100.0, 100.0])
    calls = []

    def hook(g):
        calls.append(np.asarray(g).copy())
        return g * 2

    x.register_hook(hook)
    (x * 3 + x * x).sum().backward()  # two contributions: 3 and 2x
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [5.0, 7.0])
    np.testing.assert_array_equal(np.asarray(x.grad), [110.0, 114.0])  # hook before .grad += ...


def test_hook_remove_and_retain_graph():
    x = leaf([1.0, 2.0])
    y = x * x
    handle = y.register_hook(lambda g: g * 0)
    loss = y.sum()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 0.0])
    handle.remove()
    handle.remove()  # idempotent
    x.grad = None
    loss.backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [2.0, 4.0])


def test_hook_handle_as_context_manager():
    x = leaf([1.0])
    with x.register_hook(lambda g: g * 5):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [6.0])


def test_hook_gradient_is_numerically_right():
    # a hook that rescales the gradient of an intermediate = d/dx of a reweighted function
    a = np.array([0.3, -1.2, 2.0])
    x = leaf(a)
    y = tl.sin(x)
    y.register_hook(lambda g: g * tl.array([2.0, 3.0, 4.0]))
    tl.exp(y).sum().backward()
    num, _ = numerical_grad(lambda t: tl.exp(tl.sin(t)) * tl.array([2.0, 3.0, 4.0]), [a], 0)
    weights = np.random.RandomState(1).uniform(0.5, 1.5, size=3)
    np.testing.assert_allclose(np.asarray(x.grad), num / weights, rtol=1e-6)


def test_hook_exception_propagates_and_leaves_the_graph_usable():
    x = leaf([1.0, 2.0])
    y = x * x

    class Boom(Exception):
        pass

    def bad(g):
        raise Boom("from the hook")

    handle = y.register_hook(bad)
    loss = y.sum()
    with pytest.raises(Boom, match="from the hook"):
        loss.backward(retain_graph=True)
    assert x.grad is None
    assert tl.is_grad_enabled()
    handle.remove()
    loss.backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [2.0, 4.0])


def test_hook_that_frees_the_graph_by_a_nested_backward_raises_not_crashes():
    # The nested backward releases y's node while the outer pass still has to run it: the outer
    # pass must refuse (as PyTorch: "backward through the graph a second time"), not read the
    # freed saved tensors (it segfaulted).
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    z = (y * 2).sum()
    fired = []

    def hook(g):
        if not fired:
            fired.append(True)
            with tl.enable_grad():
                inner = y.sum()
            inner.backward()

    y.register_hook(hook)
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [2.0, 4.0, 6.0])  # the nested pass's


def test_hook_returning_a_wrong_shape_or_type_raises():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: tl.array([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match=r"shape \(3,\)"):
        y.sum().backward()
    z = x * 2
    z.register_hook(lambda g: "not a tensor")
    with pytest.raises(TypeError, match="Tensor or None"):
        z.sum().backward()


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tl.array([1.0]).register_hook(lambda g: g)


def test_hooks_from_several_threads():
    # each backward runs with the GIL released and its hooks take the GIL back
    errors = []

    def work(k):
        try:
            for _ in range(20):
                x = leaf([float(k)])
                y = x * x
                y.register_hook(lambda g: g * 2)
                y.sum().backward()
                assert float(x.grad.item()) == 4.0 * k
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# -- tl.autograd.grad ----------------------------------------------------------------------------------
def test_grad_returns_a_tuple_and_touches_no_grad():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = a * b
    y.retain_grad()
    ga, gb = tl.autograd.grad(y.sum(), [a, b])
    np.testing.assert_array_equal(np.asarray(ga), [3.0, 4.0])
    np.testing.assert_array_equal(np.asarray(gb), [1.0, 2.0])
    assert a.grad is None and b.grad is None and y.grad is None
    (g,) = tl.autograd.grad((a * a).sum(), a)
    np.testing.assert_array_equal(np.asarray(g), [2.0, 4.0])


def test_grad_with_respect_to_a_non_leaf_and_grad_outputs():
    x = leaf([1.0, 2.0])
    h = x * x
    out = tl.exp(h)
    gh, gx = tl.autograd.grad(out, [h, x], grad_outputs=tl.array([1.0, 0.5]))
    e = np.exp([1.0, 4.0])
    np.testing.assert_allclose(np.asarray(gh), e * [1.0, 0.5])
    np.testing.assert_allclose(np.asarray(gx), e * [1.0, 0.5] * [2.0, 4.0])


def test_grad_runs_only_the_needed_part_of_the_graph():
    x, w = leaf([1.0]), leaf([2.0])
    seen = []
    side = w * 3
    side.register_hook(lambda g: seen.append("side"))
    y = (x * x + side).sum()
    (gx,) = tl.autograd.grad(y, x)
    np.testing.assert_array_equal(np.asarray(gx), [2.0])
    assert seen == []  # the branch to w is not on a path to x


def test_grad_second_derivative_of_cube():
    a = np.array([0.5, -1.5, 2.0])
    x = leaf(a)
    (g,) = tl.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(np.asarray(g.detach()), 3 * a ** 2)
    (g2,) = tl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(np.asarray(g2), 6 * a)
    # and numerically: d/dx of sum(3x^2 * w)
    num, w = numerical_grad(lambda t: 3 * t * t, [a], 0)
    (g2w,) = tl.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = tl.autograd.grad(g2w, x, grad_outputs=tl.array(w))
    np.testing.assert_allclose(np.asarray(h), num, rtol=1e-6)


def test_grad_allow_unused_and_unused_error():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not have been used"):
        tl.autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = tl.autograd.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_array_equal(np.asarray(gx), [2.0])
    assert gu is None


def test_grad_errors():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        tl.autograd.grad((x * 2).sum(), tl.array([1.0]))
    with pytest.raises(RuntimeError, match="does not require grad"):
        tl.autograd.grad(tl.array([1.0]).sum(), x)
    with pytest.raises(RuntimeError, match="implicitly created only for single-element"):
        tl.autograd.grad(x * 2, x)
    with pytest.raises(ValueError, match="entries"):
        tl.autograd.grad(x * 2, x, grad_outputs=[tl.array([1.0, 1.0]), tl.array([1.0, 1.0])])
    with pytest.raises(RuntimeError, match="at least one input"):
        tl.autograd.grad((x * 2).sum(), [])
    with pytest.raises(TypeError, match="sequence of Tensors"):
        tl.autograd.grad((x * 2).sum(), [x, 3])
    y = (x * x).sum()
    tl.autograd.grad(y, x)  # retain_graph defaults to create_graph=False
    with pytest.raises(RuntimeError, match="second time"):
        tl.autograd.grad(y, x)


def test_grad_repeated_input_and_hooks_see_the_gradient():
    x = leaf([3.0])
    seen = []
    x.register_hook(lambda g: seen.append(float(g.item())))
    g1, g2 = tl.autograd.grad((x * x).sum(), [x, x])
    assert float(g1.item()) == float(g2.item()) == 6.0 and seen == [6.0]
    assert x.grad is None


# -- grad mode: bare @no_grad, inference_mode -----------------------------------------------------------
def test_no_grad_bare_decorator_parenthesised_and_context():
    x = leaf([1.0])

    @tl.no_grad
    def bare():
        return (x * 2).requires_grad

    @tl.no_grad()
    def called():
        return (x * 2).requires_grad

    assert bare() is False and called() is False and tl.is_grad_enabled()
    assert bare.__name__ == "bare"
    with tl.no_grad():
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    with pytest.raises(TypeError):
        tl.no_grad(3)


def test_inference_mode_context_decorator_and_flag():
    x = leaf([1.0])
    assert not tl.is_inference_mode_enabled()
    with tl.inference_mode():
        assert tl.is_inference_mode_enabled() and not tl.is_grad_enabled()
        assert not (x * 2).requires_grad
        with tl.inference_mode(False):
            assert not tl.is_inference_mode_enabled()
        assert tl.is_inference_mode_enabled()
    assert not tl.is_inference_mode_enabled() and tl.is_grad_enabled()

    @tl.inference_mode
    def bare():
        return tl.is_inference_mode_enabled(), (x * 2).requires_grad

    @tl.inference_mode()
    def called():
        return tl.is_inference_mode_enabled(), (x * 2).requires_grad

    assert bare() == (True, False) and called() == (True, False)
    assert tl.is_grad_enabled() and not tl.is_inference_mode_enabled()


def test_set_grad_enabled_as_a_plain_call_takes_effect_as_pytorch():
    # torch.set_grad_enabled(False) "can be used as a context-manager or as a function"; the plain
    # call used to build an unused context manager and change nothing (graphs kept recording).
    x = leaf([1.0])
    try:
        tl.set_grad_enabled(False)
        assert not tl.is_grad_enabled() and not (x * 2).requires_grad
        tl.set_grad_enabled(True)
        assert tl.is_grad_enabled() and (x * 2).requires_grad
        with tl.set_grad_enabled(False):  # a with-block restores the mode from before the call
            assert not tl.is_grad_enabled()
        assert tl.is_grad_enabled()

        @tl.set_grad_enabled(False)  # decorating does not switch the mode, calling does
        def f():
            return tl.is_grad_enabled()

        assert tl.is_grad_enabled()
        assert f() is False and tl.is_grad_enabled()
        with tl.no_grad():
            tl.enable_grad()  # no_grad()/enable_grad() objects switch only when entered (PyTorch too)
            assert not tl.is_grad_enabled()
    finally:
        tl.set_grad_enabled(True)


def test_decorated_no_grad_restores_per_thread():
    # one decorated function entered from two threads: each restores its own grad mode
    barrier = threading.Barrier(2)
    results = []

    @tl.no_grad
    def inside():
        barrier.wait()
        return tl.is_grad_enabled()

    def run(enabled):
        tl.set_grad_enabled(enabled).__enter__()
        results.append((inside(), tl.is_grad_enabled() == enabled))

    threads = [threading.Thread(target=run, args=(e,)) for e in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [(False, True), (False, True)]


# -- grad_fn nodes and names ---------------------------------------------------------------------------
def test_grad_fn_node_object():
    a, b = leaf([[1.0, 2.0]]), tl.array([[3.0], [4.0]])
    y = a @ b
    node = y.grad_fn
    assert node.name() == "MmBackward0"
    assert repr(node).startswith("<MmBackward0 object at 0x")
    (acc, _), (none, _) = node.next_functions
    assert acc.name() == "AccumulateGrad" and acc.variable.shape == a.shape and none is None
    z = tl.exp(y) * 2
    assert z.grad_fn.next_functions[0][0].name() == "ExpBackward0"
    assert z.grad_fn.next_functions[0][0].next_functions[0][0].name() == "MmBackward0"
    assert a.grad_fn is None


@pytest.mark.parametrize("make, name", [
    (lambda x: x + x, "AddBackward0"), (lambda x: x - 1, "SubBackward0"), (lambda x: x * x, "MulBackward0"),
    (lambda x: x / 2, "DivBackward0"), (lambda x: x ** 3, "PowBackward0"), (lambda x: -x, "NegBackward0"),
    (lambda x: tl.sum(x), "SumBackward0"), (lambda x: tl.mean(x), "MeanBackward0"),
    (lambda x: tl.exp(x), "ExpBackward0"), (lambda x: tl.tanh(x), "TanhBackward0"),
    (lambda x: tl.reshape(x, (4,)), "ViewBackward0"), (lambda x: tl.transpose(x), "PermuteBackward0"),
    (lambda x: x @ x, "MmBackward0"), (lambda x: tl.broadcast_to(x, (3, 2, 2)), "ExpandBackward0"),
    (lambda x: x[0], "IndexBackward0"),
])
def test_pytorch_node_names(make, name):
    x = leaf(np.ones((2, 2)))
    assert make(x).grad_fn.name() == name


def test_repr_shows_grad_fn_for_non_leaves_only():
    x = leaf([1.0, 2.0])
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert str(x * 2) == "[2. 4.]"  # print() stays NumPy's
    assert repr((x * 2).detach()) == "tensor([2., 4.])"


def test_hooks_are_released_with_their_tensor_or_handle():
    import gc
    import weakref

    class Hook:
        def __call__(self, g):
            return g

    x = leaf([1.0])
    h1, h2 = Hook(), Hook()
    r1, r2 = weakref.ref(h1), weakref.ref(h2)
    y = x * 2
    y.register_hook(h1)
    handle = x.register_hook(h2)
    del h1, h2
    y.sum().backward()  # the graph (and y's node with its hook) is freed inside the engine
    del y
    gc.collect()
    assert r1() is None
    assert r2() is not None
    handle.remove()
    gc.collect()
    assert r2() is None
