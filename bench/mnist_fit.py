"""Time per epoch of the chapter's MNIST fit (Dense 512 relu -> Dense 10 softmax, RMSprop,
batch 128) on tensorlet, against Keras and PyTorch when they are installed.

Each framework first runs one untimed warm-up epoch (Keras compiles its train step then);
then epochs of the frameworks are interleaved (A B C A B C ...) so that machine load affects
all alike, and the median epoch time of each is reported with its ratio to tensorlet's.
Keras runs on whatever backend KERAS_BACKEND selects (named in the output).

    python bench/mnist_fit.py [--repeats 3] [--warmup 1] [--batch-size 128] [--samples 60000] [--threads N]
"""

import argparse
import statistics
import time

import numpy as np


def load(samples):
    from tensorlet.datasets import mnist

    (x, y), _ = mnist.load_data()
    x = x[:samples].reshape(-1, 784).astype("float32") / 255
    return x, y[:samples]


def tensorlet_runner(x, y, batch_size):
    from tensorlet import layers, models, utils

    utils.set_random_seed(0)
    model = models.Sequential([layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def epoch():
        return model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0).history["accuracy"][-1]

    return epoch


def keras_runner(x, y, batch_size):
    import keras

    keras_runner.label = f"keras/{keras.backend.backend()}"
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(512, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    def epoch():
        return model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0).history["accuracy"][-1]

    return epoch


def torch_runner(x, y, batch_size):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    # Keras's RMSprop defaults (PyTorch's eps sits outside the square root: close, not identical).
    opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    n = len(xt)

    def epoch():
        correct = 0
        for idx in torch.randperm(n).split(batch_size):
            xb, yb = xt[idx], yt[idx]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            correct += int((logits.argmax(1) == yb).sum())
        return correct / n

    return epoch


RUNNERS = {"tensorlet": tensorlet_runner, "keras": keras_runner, "pytorch": torch_runner}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed per framework")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs per framework first")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework (default: tensorlet's default, applied to all)")
    args = parser.parse_args(argv)

    # Same thread count for everyone: on a shared 2-core machine PyTorch's OpenMP threads
    # can be an order of magnitude slower when the second core is busy.
    import tensorlet as tl

    if args.threads:
        tl.set_num_threads(args.threads)
    try:
        import torch

        torch.set_num_threads(tl.get_num_threads())
    except ImportError:
        pass

    x, y = load(args.samples)
    epochs = {}
    for name, make in RUNNERS.items():
        try:
            epochs[name] = make(x, y, args.batch_size)
        except ImportError as e:
            print(f"{name}: skipped (not installed: {e.name})")
    times = {name: [] for name in epochs}
    accuracy = {}
    for name, epoch in epochs.items():
        for _ in range(args.warmup):
            epoch()
    for _ in range(args.repeats):
        for name, epoch in epochs.items():
            start = time.perf_counter()
            accuracy[name] = epoch()
            times[name].append(time.perf_counter() - start)

    base = statistics.median(times["tensorlet"])
    print(f"MNIST fit, {args.samples} samples, batch {args.batch_size}, {tl.get_num_threads()} thread(s), "
          f"median of {args.repeats} epochs:")
    for name, ts in times.items():
        med = statistics.median(ts)
        label = getattr(RUNNERS[name], "label", name)
        print(f"  {label:<14} {med:7.2f} s/epoch  ({med / base:5.2f}x tensorlet)  "
              f"epochs: {', '.join(f'{t:.2f}' for t in ts)}  last train accuracy {accuracy[name]:.4f}")


if __name__ == "__main__":
    main()
