"""The book's chapter-5 convnet on tensorlet: classify MNIST digits with Conv2D/MaxPooling2D.

    python examples/mnist_convnet.py                          # 5 epochs, batch 64 (the book: 0.991)
    python examples/mnist_convnet.py --epochs 1 --samples 10000   # a quick check on a subset
    python examples/mnist_convnet.py --plot                   # also saves mnist_convnet.png

The program below is the book's, with only its imports changed; ``--samples N`` trains on the
first N training images (the test set stays whole). ``--plot [FILE]`` saves the loss/accuracy
curves and a grid of misclassified test digits with their true and predicted labels (needs
matplotlib: pip install tensorlet[plot]).
"""

import argparse
import sys

from mnist import EpochTimer, plot, require_matplotlib_for_plot  # examples/mnist.py

from tensorlet import layers, models  # the book: from keras import layers, models
from tensorlet.datasets import mnist  # from keras.datasets import mnist
from tensorlet.utils import to_categorical  # from keras.utils import to_categorical


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=60000, help="train on the first N training images")
    parser.add_argument("--seed", type=int, default=None, help="seed everything for a reproducible run")
    parser.add_argument("--plot", metavar="FILE", nargs="?", const="mnist_convnet.png", default=None,
                        help="save training curves and misclassified digits to FILE (default mnist_convnet.png; "
                             "needs matplotlib)")
    args = parser.parse_args(argv)
    if not 1 <= args.samples <= 60000:
        parser.error("--samples must be in [1, 60000]")
    require_matplotlib_for_plot(parser, args)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.seed is not None:
        from tensorlet import utils
        utils.set_random_seed(args.seed)

    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation='relu'))
    model.summary()
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation='relu'))
    model.add(layers.Dense(10, activation='softmax'))
    (train_images, train_labels), (test_images, test_labels) = mnist.load_data()
    train_images = train_images.reshape((60000, 28, 28, 1)).astype('float32') / 255
    test_images = test_images.reshape((10000, 28, 28, 1)).astype('float32') / 255
    train_labels, test_labels = to_categorical(train_labels), to_categorical(test_labels)
    train_images, train_labels = train_images[:args.samples], train_labels[:args.samples]
    model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
    timer = EpochTimer()
    history = model.fit(train_images, train_labels, epochs=args.epochs, batch_size=64, callbacks=[timer])
    test_loss, test_acc = model.evaluate(test_images, test_labels)   # the book: 0.991
    print(f"test_acc: {test_acc}")
    if timer.times:
        print(f"time per epoch: {sum(timer.times) / len(timer.times):.2f} s "
              f"(epochs: {', '.join(f'{t:.2f}' for t in timer.times)})")
    if args.plot:
        predictions = model.predict(test_images, verbose=0)
        plot(args.plot, history, test_images, test_labels.argmax(axis=1), predictions)
    return test_acc


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
