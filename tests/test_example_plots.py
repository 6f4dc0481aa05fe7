"""The --plot option of examples/mnist.py and examples/mnist_convnet.py: the plotting function on a
tiny fake history (Agg backend, only when matplotlib is installed), and a clear usage error for
--plot when it is not."""
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))  # mnist_convnet imports its helpers from examples/mnist.py
import mnist_convnet  # noqa: E402

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


class FakeHistory:
    history = {"loss": [0.9, 0.5, 0.3], "accuracy": [0.7, 0.85, 0.9], "val_loss": [0.8, 0.6, 0.5],
               "val_accuracy": [0.75, 0.8, 0.82]}


@pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="matplotlib is not installed (the optional extra 'plot')")
def test_plot_draws_curves_and_misclassified_digits(tmp_path, capsys):
    import matplotlib
    matplotlib.use("Agg")
    rng = np.random.default_rng(0)
    images = rng.random((30, 28, 28, 1)).astype(np.float32)
    labels = np.arange(30) % 10
    predictions = np.eye(10)[labels]
    predictions[[3, 7, 11]] = np.eye(10)[[0, 0, 5]]  # three mistakes (7 -> 0 is one)
    path = tmp_path / "plot.png"
    mnist_convnet.plot(str(path), FakeHistory(), images, labels, predictions)
    assert path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"saved {path}" in capsys.readouterr().out
    import matplotlib.pyplot as plt
    fig = plt.gcf()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:2] == ["loss", "accuracy"]
    assert titles[2:] == ["3 → 0", "7 → 0", "1 → 5"]  # true → predicted, for each misclassified digit
    assert [len(ax.get_lines()) for ax in fig.axes[:2]] == [2, 2]  # training and validation curves
    assert "3 of 30" in fig._suptitle.get_text()
    plt.close("all")


def test_plot_option_parses_with_a_default_file_or_explains_what_is_missing(capsys):
    if HAVE_MATPLOTLIB:
        assert mnist_convnet.parse_args(["--plot"]).plot == "mnist_convnet.png"
        assert mnist_convnet.parse_args(["--plot", "x.png"]).plot == "x.png"
    else:
        with pytest.raises(SystemExit):
            mnist_convnet.parse_args(["--plot"])
        assert "--plot needs matplotlib: pip install" in capsys.readouterr().err
    assert mnist_convnet.parse_args([]).plot is None
