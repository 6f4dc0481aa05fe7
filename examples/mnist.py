"""The chapter's first neural network, on tensorlet: classify MNIST digits with two Dense layers.

    python examples/mnist.py                      # 5 epochs, batch 128, RMSprop
    python examples/mnist.py --seed 0 --plot mnist.png

Only the imports differ from the Keras program. ``--plot FILE`` saves the loss/accuracy
curves and a grid of misclassified test digits (needs matplotlib: pip install tensorlet[plot]).
"""

import argparse
import sys
import time

from tensorlet import keras  # the chapter: from tensorflow import keras
from tensorlet.keras import layers  # from tensorflow.keras import layers
from tensorlet.keras.datasets import mnist  # from tensorflow.keras.datasets import mnist


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=None, help="seed everything for a reproducible run")
    parser.add_argument("--plot", metavar="FILE", default=None,
                        help="save training curves and misclassified digits to FILE (needs matplotlib)")
    args = parser.parse_args(argv)
    require_matplotlib_for_plot(parser, args)
    return args


def require_matplotlib_for_plot(parser, args):
    """--plot needs matplotlib (the optional extra 'plot'): a clear usage error when it is missing,
    before any training starts."""
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install matplotlib (or tensorlet[plot])")


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of each epoch."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def plot(path, history, test_images, test_labels, predictions):
    """Saves to `path` the loss and accuracy per epoch (and their validation curves when the
    history has them) beside a grid of up to 24 misclassified test digits, each titled
    'true → predicted'. test_labels are class indices; images are 28 x 28 (any trailing shape)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    predicted = predictions.argmax(axis=1)
    wrong = np.flatnonzero(predicted != test_labels)[:24]  # a 4 x 6 grid
    fig = plt.figure(figsize=(12, 7))
    grid = fig.add_gridspec(4, 12)
    epochs = range(1, len(history.history["loss"]) + 1)
    for col, key in ((0, "loss"), (1, "accuracy")):
        ax = fig.add_subplot(grid[:, col * 3:col * 3 + 3])
        ax.plot(epochs, history.history[key], "o-", label=f"training {key}")
        if f"val_{key}" in history.history:
            ax.plot(epochs, history.history[f"val_{key}"], "s--", label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(key)
        ax.legend()
    for k, i in enumerate(wrong):
        ax = fig.add_subplot(grid[k // 6, 6 + k % 6])
        ax.imshow(test_images[i].reshape(28, 28), cmap="gray_r")
        ax.set_title(f"{test_labels[i]} → {predicted[i]}", fontsize=8)
        ax.axis("off")
    fig.suptitle(f"MNIST: {len(np.flatnonzero(predicted != test_labels))} of {len(test_labels)} test digits "
                 "misclassified (true → predicted)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"saved {path}")


def main(argv=None):
    args = parse_args(argv)
    if args.seed is not None:
        keras.utils.set_random_seed(args.seed)

    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()

    model = keras.Sequential([
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    train_images = train_images.reshape((60000, 28 * 28))
    train_images = train_images.astype("float32") / 255
    test_images = test_images.reshape((10000, 28 * 28))
    test_images = test_images.astype("float32") / 255

    timer = EpochTimer()
    history = model.fit(train_images, train_labels, epochs=args.epochs, batch_size=args.batch_size,
                        callbacks=[timer])
    test_loss, test_acc = model.evaluate(test_images, test_labels)
    print(f"test_acc: {test_acc}")
    if timer.times:
        print(f"time per epoch: {sum(timer.times) / len(timer.times):.2f} s "
              f"(epochs: {', '.join(f'{t:.2f}' for t in timer.times)})")
    if args.plot:
        plot(args.plot, history, test_images, test_labels, model.predict(test_images, verbose=0))
    return test_acc


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
