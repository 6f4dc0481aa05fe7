"""The bundled MNIST loader and the Fashion-MNIST cache lookup."""
import gzip
import os
import shutil
import struct

import numpy as np
import pytest

from tensorlet.datasets import DatasetFileError, fashion_mnist, mnist
from tensorlet.datasets._idx import SPLIT_FILES, read_idx


@pytest.fixture(scope="module")
def mnist_data():
    return mnist.load_data()


def test_mnist_shapes_and_dtypes_like_keras(mnist_data):
    (x_train, y_train), (x_test, y_test) = mnist_data
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert x_train.flags.writeable and x_train.flags.c_contiguous


def test_mnist_known_figures(mnist_data):
    (x_train, y_train), (_, y_test) = mnist_data
    counts = np.bincount(x_train.reshape(-1), minlength=256)  # exact moments from the histogram
    values = np.arange(256, dtype=np.float64)
    mean = (counts * values).sum() / counts.sum()
    std = np.sqrt((counts * (values - mean) ** 2).sum() / counts.sum())
    assert mean == pytest.approx(33.318, abs=1e-3)
    assert std == pytest.approx(78.567, abs=1e-3)
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_bundled_files_and_licence_ship_in_the_package():
    data_dir = os.path.join(os.path.dirname(mnist.__file__), "data", "mnist")
    for name in SPLIT_FILES + ("README.md", "LICENSE"):
        assert os.path.isfile(os.path.join(data_dir, name)), name
    with open(os.path.join(data_dir, "LICENSE")) as f:
        text = f.read()
    assert "CC BY-SA 3.0" in text and "LeCun" in text


def _write_idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">i", d) for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


def _write_dataset(directory, n_train=6, n_test=4, max_label=9):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    _write_idx(os.path.join(directory, SPLIT_FILES[0]), rng.integers(0, 256, (n_train, 28, 28)))
    _write_idx(os.path.join(directory, SPLIT_FILES[1]), np.arange(n_train) % (max_label + 1))
    _write_idx(os.path.join(directory, SPLIT_FILES[2]), rng.integers(0, 256, (n_test, 28, 28)))
    _write_idx(os.path.join(directory, SPLIT_FILES[3]), np.arange(n_test) % (max_label + 1))


def test_mnist_missing_file_is_named(tmp_path):
    with pytest.raises(DatasetFileError, match="train-images-idx3-ubyte.gz"):
        mnist.load_data(path=str(tmp_path))
    assert issubclass(DatasetFileError, ValueError)


def test_mnist_corrupt_file_fails_the_hash_check(tmp_path):
    src = os.path.dirname(mnist._BUNDLED_DIR + "/")
    for name in SPLIT_FILES:
        shutil.copy(os.path.join(src, name), tmp_path / name)
    target = tmp_path / SPLIT_FILES[1]
    os.chmod(target, 0o644)
    data = bytearray(target.read_bytes())
    data[-5] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(DatasetFileError, match="corrupt.*SHA-256"):
        mnist.load_data(path=str(tmp_path))


def test_idx_header_mismatch_is_reported(tmp_path):
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + struct.pack(">i", 10) + bytes(7))
    with pytest.raises(DatasetFileError, match="header says shape"):
        read_idx(str(path), 1)
    with pytest.raises(DatasetFileError, match="magic"):
        read_idx(str(path), 3)
    not_gzip = tmp_path / "plain.gz"
    not_gzip.write_bytes(b"hello")
    with pytest.raises(DatasetFileError, match="gzip"):
        read_idx(str(not_gzip), 1)


def test_fashion_mnist_reads_a_given_path(tmp_path):
    _write_dataset(tmp_path)
    (x, y), (xt, yt) = fashion_mnist.load_data(path=str(tmp_path))
    assert x.shape == (6, 28, 28) and y.shape == (6,) and xt.shape == (4, 28, 28) and yt.dtype == np.uint8


def test_fashion_mnist_reads_the_cache_dir_from_env(tmp_path, monkeypatch):
    _write_dataset(tmp_path / "fashion-mnist")
    monkeypatch.setenv("TENSORLET_DATA", str(tmp_path))
    (x, _), _ = fashion_mnist.load_data()
    assert x.shape == (6, 28, 28)


def test_fashion_mnist_missing_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("TENSORLET_DATA", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DatasetFileError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert str(tmp_path / "fashion-mnist") in message
    assert os.path.join(".tensorlet", "datasets", "fashion-mnist") in message


def test_labels_out_of_range_are_rejected(tmp_path):
    _write_dataset(tmp_path, n_train=12, max_label=10)
    with pytest.raises(DatasetFileError, match=r"labels must be in \[0, 10\)"):
        fashion_mnist.load_data(path=str(tmp_path))
