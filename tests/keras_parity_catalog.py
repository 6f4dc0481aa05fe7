"""Optional parity check of the catalog against Keras 3 itself: the same optimizer steps (with
clipping, weight decay, schedules), schedules, losses, metrics, activations, regularizers and
constraints computed by Keras (in another Python that has it) and by tensorlet, compared at
float32 precision (Keras keeps some constants, e.g. leaky_relu's slope, in float32); and the
same regularized, max-norm-constrained MLP trained 3 epochs from the same weights in both
(AdamW + clipnorm, Nadam + warmup cosine schedule, Lion): the loss histories (penalties
included) and the final weights.

    python tests/keras_parity_catalog.py --keras-python /work/venv-tf/bin/python

run by tests/test_keras_parity_catalog.py when TENSORLET_KERAS_PYTHON names such a Python.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def optimizers(O):
    """The optimizers compared, built from a module with Keras's optimizer names."""
    S = O.schedules
    return {
        "adamw": lambda: O.AdamW(0.01), "adam_ams": lambda: O.Adam(0.01, amsgrad=True),
        "adamw_ams_wd": lambda: O.AdamW(0.01, weight_decay=0.1, amsgrad=True),
        "adagrad": lambda: O.Adagrad(0.05), "adadelta": lambda: O.Adadelta(0.5), "adamax": lambda: O.Adamax(0.01),
        "nadam": lambda: O.Nadam(0.01), "lion": lambda: O.Lion(0.01),
        "adam_clipnorm": lambda: O.Adam(0.01, clipnorm=1.5),
        "sgd_global": lambda: O.SGD(0.1, momentum=0.9, global_clipnorm=2.0),
        "rms_clipvalue_wd": lambda: O.RMSprop(0.01, clipvalue=0.5, weight_decay=0.05),
        "nadam_sched": lambda: O.Nadam(S.ExponentialDecay(0.1, 2, 0.5)),
        "lion_wd_clipnorm": lambda: O.Lion(0.01, weight_decay=0.3, clipnorm=0.7),
    }


def schedules(S):
    return [S.ExponentialDecay(0.1, 10, 0.5, staircase=True), S.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
            S.PolynomialDecay(0.1, 10, 0.01, power=2.0, cycle=True), S.InverseTimeDecay(0.1, 10, 0.5),
            S.CosineDecay(0.0, 10, warmup_target=0.2, warmup_steps=4, alpha=0.1),
            S.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5, alpha=0.05)]


def fit_data():
    """Data and initial weights of the training comparison (a regularized, constrained MLP)."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(48, 4))
    y = np.tanh(x @ np.array([[1.0], [-2.0], [0.5], [0.0]])) + 0.1 * rng.normal(size=(48, 1))
    weights = [rng.normal(size=(4, 5)) * 0.5, np.zeros(5), rng.normal(size=(5, 1)) * 0.5, np.zeros(1)]
    return x, y, weights


def fit_model(keras_like, layers, regularizers, constraints, optimizer):
    """The same model built from Keras's or tensorlet's modules, trained 3 epochs, unshuffled."""
    x, y, weights = fit_data()
    model = keras_like.Sequential([
        keras_like.Input((4,)),
        layers.Dense(5, activation="tanh", kernel_regularizer=regularizers.L2(0.01),
                     activity_regularizer=regularizers.L1(0.001), kernel_constraint=constraints.MaxNorm(1.5),
                     dtype="float64"),
        layers.Dense(1, bias_regularizer=regularizers.L1(0.05), dtype="float64")])
    model.set_weights(weights)
    model.compile(optimizer=optimizer, loss="mse")
    history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    return history.history["loss"], model.get_weights()


FIT_OPTIMIZERS = {"adamw_clipnorm": lambda O: O.AdamW(0.05, weight_decay=0.01, clipnorm=0.5),
                  "nadam_schedule": lambda O: O.Nadam(O.schedules.CosineDecay(0.05, 6, warmup_target=0.1,
                                                                             warmup_steps=3)),
                  "lion": lambda O: O.Lion(0.01)}


def keras_side(d):
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    from keras import ops
    out = {}
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3)).astype("float64")
    w1 = rng.normal(size=(3,)).astype("float64")
    grads = [(rng.normal(size=(4, 3)), rng.normal(size=(3,))) for _ in range(5)]
    np.savez(os.path.join(d, "inputs.npz"), w0=w0, w1=w1, g0=np.stack([g[0] for g in grads]), g1=np.stack([g[1] for g in grads]))
    keras.config.set_floatx("float64")
    def opt_run(name, opt):
        v0 = keras.Variable(w0, dtype="float64"); v1 = keras.Variable(w1, dtype="float64")
        for g0, g1 in grads:
            opt.apply_gradients([(g0, v0), (g1, v1)])
        out["opt_" + name + "_0"] = np.asarray(v0.numpy()); out["opt_" + name + "_1"] = np.asarray(v1.numpy())
    O = keras.optimizers
    for name, mk in optimizers(O).items():
        opt_run(name, mk())
    S = O.schedules
    for i, s in enumerate(schedules(S)):
        out[f"sched_{i}"] = np.array([float(s(step)) for step in range(0, 40, 3)])
    # losses
    y = rng.normal(size=(4, 5)); p = rng.normal(size=(4, 5)); ypos = rng.uniform(0.1, 2, (4, 5)); ppos = rng.uniform(0.1, 2, (4, 5))
    y01 = (rng.uniform(size=(4, 5)) > 0.5).astype("float64"); pprob = rng.uniform(0.05, 0.95, (4, 5))
    ydist = rng.dirichlet(np.ones(5), 4); pdist = rng.dirichlet(np.ones(5), 4)
    np.savez(os.path.join(d, "loss_inputs.npz"), y=y, p=p, ypos=ypos, ppos=ppos, y01=y01, pprob=pprob, ydist=ydist, pdist=pdist)
    L = keras.losses
    for name, fn, a, b in [("mae", L.mean_absolute_error, y, p), ("mape", L.mean_absolute_percentage_error, y, p),
                           ("msle", L.mean_squared_logarithmic_error, ypos, ppos), ("huber", L.huber, y, p),
                           ("log_cosh", L.log_cosh, y, p), ("hinge", L.hinge, y01, p), ("squared_hinge", L.squared_hinge, y01, p),
                           ("categorical_hinge", L.categorical_hinge, np.eye(5)[[0, 2, 4, 1]], p),
                           ("kld", L.kl_divergence, ydist, pdist), ("poisson", L.poisson, ypos, ppos),
                           ("cosine", L.cosine_similarity, y, p), ("focal", L.binary_focal_crossentropy, y01, pprob)]:
        out["loss_" + name] = np.asarray(fn(a, b))
    out["loss_focal_opts"] = np.asarray(L.binary_focal_crossentropy(y01, p, apply_class_balancing=True, alpha=0.4, gamma=1.5, from_logits=True, label_smoothing=0.2))
    # metrics
    M = keras.metrics
    labels = (rng.uniform(size=(40, 2)) > 0.5).astype("float64"); scores = np.clip(labels * 0.3 + rng.uniform(size=(40, 2)) * 0.7, 0, 1)
    sw = rng.uniform(0.5, 1.5, 40)
    np.savez(os.path.join(d, "metric_inputs.npz"), labels=labels, scores=scores, sw=sw)
    def mres(m, *args):
        m.update_state(*args); return np.asarray(m.result())
    for curve in ("ROC", "PR"):
        for method in ("interpolation", "minoring", "majoring"):
            out[f"auc_{curve}_{method}"] = mres(M.AUC(curve=curve, summation_method=method), labels, scores, sw)
    out["auc_multi"] = mres(M.AUC(multi_label=True), labels, scores)
    out["prec"] = mres(M.Precision(thresholds=[0.2, 0.5, 0.7]), labels, scores, sw)
    out["rec"] = mres(M.Recall(thresholds=[0.2, 0.5, 0.7]), labels, scores, sw)
    yy = np.array([[1, 1, 0], [0, 1, 1.0]]); pp = np.array([[0.9, 0.8, 0.1], [0.7, 0.7, 0.6]])
    out["prec_topk"] = mres(M.Precision(top_k=1), yy, pp); out["rec_topk"] = mres(M.Recall(top_k=1), yy, pp)
    out["prec_class"] = mres(M.Precision(class_id=1), labels, scores)
    lab = rng.integers(0, 5, 30); sc = rng.normal(size=(30, 5)); sc[0, 1] = sc[0, lab[0]]
    np.savez(os.path.join(d, "topk_inputs.npz"), lab=lab, sc=sc)
    out["stopk"] = mres(M.SparseTopKCategoricalAccuracy(k=3), lab, sc.astype("float32"))
    out["topk"] = mres(M.TopKCategoricalAccuracy(k=3), np.eye(5)[lab].astype("float32"), sc.astype("float32"))
    out["r2"] = mres(M.R2Score(class_aggregation="variance_weighted_average"), y, p, sw[:4])
    out["r2_adj"] = mres(M.R2Score(num_regressors=1), y[:, :1], p[:, :1])
    yc = np.eye(3)[rng.integers(0, 3, 12)]; pc = rng.uniform(size=(12, 3)); wc = rng.uniform(0.5, 2, 12)
    np.savez(os.path.join(d, "f_inputs.npz"), yc=yc, pc=pc, wc=wc)
    for avg in (None, "micro", "macro", "weighted"):
        out[f"f_{avg}"] = mres(M.FBetaScore(average=avg, beta=0.5), yc, pc, wc)
        out[f"f1t_{avg}"] = mres(M.F1Score(average=avg, threshold=0.4), yc, pc)
    out["rmse"] = mres(M.RootMeanSquaredError(), y, p, sw[:4])
    out["cos_metric"] = mres(M.CosineSimilarity(dtype="float64"), y, p)
    # activations
    x = np.array([-40.0, -3.5, -2.9, -1.0, -0.3, 0.2, 0.7, 2.9, 3.5, 8.0, 40.0])
    A = keras.activations
    for name in ["elu", "selu", "gelu", "silu", "softplus", "softsign", "leaky_relu", "relu6", "hard_sigmoid", "hard_silu", "exponential", "mish"]:
        out["act_" + name] = np.asarray(getattr(A, name)(x))
    out["act_gelu_approx"] = np.asarray(A.gelu(x, approximate=True))
    out["act_log_softmax"] = np.asarray(A.log_softmax(x.reshape(1, -1)))
    out["act_relu_opts"] = np.asarray(A.relu(x, negative_slope=0.1, max_value=3.0, threshold=0.5))
    # regularizers / constraints
    W = np.array([[0.5, -1.5, 2.0], [-0.25, 0.0, 1.0]])
    R = keras.regularizers
    out["reg_l1l2"] = np.asarray(R.L1L2(0.1, 0.2)(W)); out["reg_orth_rows"] = np.asarray(R.OrthogonalRegularizer(0.5)(ops.convert_to_tensor(W.astype("float32"))))
    out["reg_orth_cols"] = np.asarray(R.OrthogonalRegularizer(0.3, mode="columns")(ops.convert_to_tensor(W.astype("float32"))))
    C = keras.constraints
    out["con_maxnorm"] = np.asarray(C.MaxNorm(1.0)(W)); out["con_unit"] = np.asarray(C.UnitNorm(axis=1)(W))
    out["con_minmax"] = np.asarray(C.MinMaxNorm(0.5, 1.0, rate=0.5)(W)); out["con_nonneg"] = np.asarray(C.NonNeg()(W))
    for name, make in FIT_OPTIMIZERS.items():
        losses, weights = fit_model(keras, keras.layers, keras.regularizers, keras.constraints,
                                    make(keras.optimizers))
        out["fit_" + name + "_loss"] = np.asarray(losses)
        for i, w in enumerate(weights):
            out[f"fit_{name}_w{i}"] = np.asarray(w)
    np.savez(os.path.join(d, "keras_out.npz"), **out)



def tensorlet_side(d):
    import tensorlet as tl
    from tensorlet import activations as A, constraints as C, losses as L, metrics as M, optimizers as O, \
        regularizers as R
    K = np.load(os.path.join(d, "keras_out.npz"))
    bad = []
    def cmp(key, got, rtol=1e-5, atol=1e-7):
        want = K[key]
        got = np.asarray(got, dtype=np.float64).reshape(np.shape(want))
        if not np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
            bad.append(key); print("MISMATCH", key, "\n tl:", got.ravel()[:6], "\n ke:", np.asarray(want).ravel()[:6])
        else:
            print("ok", key)
    I = np.load(os.path.join(d, "inputs.npz"))
    S = O.schedules
    for name, mk in optimizers(O).items():
        opt = mk(); v0 = tl.array(I["w0"].copy()); v1 = tl.array(I["w1"].copy())
        for g0, g1 in zip(I["g0"], I["g1"]):
            opt.apply([v0, v1], [tl.array(g0), tl.array(g1)])
        cmp("opt_" + name + "_0", v0); cmp("opt_" + name + "_1", v1)
    for i, s in enumerate(schedules(S)):
        cmp(f"sched_{i}", [s(step) for step in range(0, 40, 3)], rtol=1e-6, atol=1e-7)
    D = np.load(os.path.join(d, "loss_inputs.npz"))
    y, p, ypos, ppos, y01, pprob, ydist, pdist = (D[k] for k in ["y", "p", "ypos", "ppos", "y01", "pprob", "ydist", "pdist"])
    for name, fn, a, b in [("mae", L.mean_absolute_error, y, p), ("mape", L.mean_absolute_percentage_error, y, p),
                           ("msle", L.mean_squared_logarithmic_error, ypos, ppos), ("huber", L.huber, y, p),
                           ("log_cosh", L.log_cosh, y, p), ("hinge", L.hinge, y01, p), ("squared_hinge", L.squared_hinge, y01, p),
                           ("categorical_hinge", L.categorical_hinge, np.eye(5)[[0, 2, 4, 1]], p),
                           ("kld", L.kl_divergence, ydist, pdist), ("poisson", L.poisson, ypos, ppos),
                           ("cosine", L.cosine_similarity, y, p), ("focal", L.binary_focal_crossentropy, y01, pprob)]:
        cmp("loss_" + name, fn(a, b))
    cmp("loss_focal_opts", L.binary_focal_crossentropy(y01, p, apply_class_balancing=True, alpha=0.4, gamma=1.5, from_logits=True, label_smoothing=0.2))
    Mi = np.load(os.path.join(d, "metric_inputs.npz")); labels, scores, sw = Mi["labels"], Mi["scores"], Mi["sw"]
    def mres(m, *args):
        m.update_state(*args); return np.asarray(m.result())
    for curve in ("ROC", "PR"):
        for method in ("interpolation", "minoring", "majoring"):
            cmp(f"auc_{curve}_{method}", mres(M.AUC(curve=curve, summation_method=method), labels, scores, sw), rtol=1e-5, atol=1e-6)
    cmp("auc_multi", mres(M.AUC(multi_label=True), labels, scores), rtol=1e-5)
    cmp("prec", mres(M.Precision(thresholds=[0.2, 0.5, 0.7]), labels, scores, sw), rtol=1e-6)
    cmp("rec", mres(M.Recall(thresholds=[0.2, 0.5, 0.7]), labels, scores, sw), rtol=1e-6)
    yy = np.array([[1, 1, 0], [0, 1, 1.0]]); pp = np.array([[0.9, 0.8, 0.1], [0.7, 0.7, 0.6]])
    cmp("prec_topk", mres(M.Precision(top_k=1), yy, pp)); cmp("rec_topk", mres(M.Recall(top_k=1), yy, pp))
    cmp("prec_class", mres(M.Precision(class_id=1), labels, scores), rtol=1e-6)
    T = np.load(os.path.join(d, "topk_inputs.npz"))
    cmp("stopk", mres(M.SparseTopKCategoricalAccuracy(k=3), T["lab"], T["sc"].astype("float32")), rtol=1e-6)
    cmp("topk", mres(M.TopKCategoricalAccuracy(k=3), np.eye(5)[T["lab"]], T["sc"].astype("float32")), rtol=1e-6)
    cmp("r2", mres(M.R2Score(class_aggregation="variance_weighted_average", dtype="float64"), y, p, sw[:4]))
    cmp("r2_adj", mres(M.R2Score(num_regressors=1, dtype="float64"), y[:, :1], p[:, :1]))
    F = np.load(os.path.join(d, "f_inputs.npz"))
    for avg in (None, "micro", "macro", "weighted"):
        cmp(f"f_{avg}", mres(M.FBetaScore(average=avg, beta=0.5, dtype="float64"), F["yc"], F["pc"], F["wc"]))
        cmp(f"f1t_{avg}", mres(M.F1Score(average=avg, threshold=0.4, dtype="float64"), F["yc"], F["pc"]))
    cmp("rmse", mres(M.RootMeanSquaredError(dtype="float64"), y, p, sw[:4]))
    cmp("cos_metric", mres(M.CosineSimilarity(dtype="float64"), y, p))
    x = np.array([-40.0, -3.5, -2.9, -1.0, -0.3, 0.2, 0.7, 2.9, 3.5, 8.0, 40.0])
    for name in ["elu", "selu", "gelu", "silu", "softplus", "softsign", "leaky_relu", "relu6", "hard_sigmoid", "hard_silu",
                 "exponential", "mish"]:
        cmp("act_" + name, getattr(A, name)(tl.array(x)))
    cmp("act_gelu_approx", A.gelu(tl.array(x), approximate=True))
    cmp("act_log_softmax", A.log_softmax(tl.array(x.reshape(1, -1))))
    cmp("act_relu_opts", A.relu(tl.array(x), negative_slope=0.1, max_value=3.0, threshold=0.5))
    W = np.array([[0.5, -1.5, 2.0], [-0.25, 0.0, 1.0]])
    cmp("reg_l1l2", R.L1L2(0.1, 0.2)(tl.array(W)))
    cmp("reg_orth_rows", R.OrthogonalRegularizer(0.5)(tl.array(W)), rtol=1e-6)
    cmp("reg_orth_cols", R.OrthogonalRegularizer(0.3, mode="columns")(tl.array(W)), rtol=1e-6)
    cmp("con_maxnorm", C.MaxNorm(1.0)(tl.array(W))); cmp("con_unit", C.UnitNorm(axis=1)(tl.array(W)))
    cmp("con_minmax", C.MinMaxNorm(0.5, 1.0, rate=0.5)(tl.array(W))); cmp("con_nonneg", C.NonNeg()(tl.array(W)))
    from tensorlet import constraints, keras, layers, regularizers

    for name, make in FIT_OPTIMIZERS.items():
        losses, weights = fit_model(keras, layers, regularizers, constraints, make(O))
        # Keras's Adam steps differ from the float64 formula by ~2e-6 relative (the Adam-family cases
        # above): over 9 steps, weights agree to 1e-4
        cmp("fit_" + name + "_loss", losses, rtol=1e-4, atol=1e-6)
        for i, w in enumerate(weights):
            cmp(f"fit_{name}_w{i}", w, rtol=1e-4, atol=1e-6)
    return bad


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keras-python", help="a Python with Keras 3 installed")
    parser.add_argument("--keras-side", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keras_side:
        keras_side(args.keras_side)
        return 0
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([args.keras_python, os.path.abspath(__file__), "--keras-side", d], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bad = tensorlet_side(d)
    print("mismatches:", bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
