"""Hostile and damaged weights files: load_weights raises ValueError and leaves the model's
weights unchanged; save_weights is atomic (a failure mid-save keeps the previous file)."""
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import layers, models, utils


def make_model(seed=0, hidden=8):
    utils.set_random_seed(seed)
    model = models.Sequential([layers.Dense(hidden, activation="relu"), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    model.build((None, 5))
    return model


@pytest.fixture
def saved(tmp_path):
    model = make_model(seed=1)
    path = tmp_path / "w.npz"
    model.save_weights(path)
    return model, path


def assert_unchanged(model, before):
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def write_npz(path, members):
    """members: name -> raw .npy bytes (written as-is, so headers can lie)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def members_of(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def hostile_files(path, tmp_path):
    """(label, file path) for every kind of bad file, built from the good archive at ``path``."""
    good = members_of(path)
    raw = path.read_bytes()
    out = []

    def add(label, data=None, members=None):
        p = tmp_path / f"bad_{len(out)}.npz"
        if members is not None:
            write_npz(p, members)
        else:
            p.write_bytes(data)
        out.append((label, p))

    for cut in (0, 10, len(raw) // 2, len(raw) - 1):
        add(f"truncated at {cut}", raw[:cut])
    flipped = bytearray(raw)
    mid = len(raw) // 3
    flipped[mid:mid + 16] = bytes(16)
    add("corrupt bytes", bytes(flipped))
    add("not a zip", b"\x93NUMPY garbage" * 20)
    kernel = np.load(io.BytesIO(good["0/kernel.npy"]))
    add("wrong shape", members={**good, "0/kernel.npy": npy_bytes(kernel.T.copy())})
    add("wrong dtype", members={**good, "0/kernel.npy": npy_bytes(kernel.astype(np.float64))})
    add("int dtype", members={**good, "0/kernel.npy": npy_bytes(kernel.astype(np.int32))})
    add("missing weight", members={k: v for k, v in good.items() if k != "1/bias.npy"})
    add("extra weight", members={**good, "2/kernel.npy": good["1/bias.npy"]})
    add("pickle (object array)", members={**good, "0/kernel.npy": npy_bytes(np.array([{"a": 1}], dtype=object))})
    add("raw pickle member", members={**good, "0/kernel.npy": pickle.dumps(kernel)})
    add("non-array member", members={**good, "evil.txt": b"x"})
    # a header declaring a huge shape with a few bytes of data
    header = good["0/kernel.npy"]
    hlen = struct.unpack("<H", header[8:10])[0]
    huge_hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000000), }"
    huge_hdr = huge_hdr.ljust(hlen - 1) + "\n"
    if len(huge_hdr) == hlen:
        add("huge declared shape", members={**good, "0/kernel.npy": header[:10] + huge_hdr.encode() + b"\0" * 64})
    neg_hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 8), }".ljust(hlen - 1) + "\n"
    add("negative declared shape", members={**good, "0/kernel.npy": header[:10] + neg_hdr.encode() + header[10 + hlen:]})
    short = header[: len(header) - 4]  # header says (5, 8) float32 but 4 bytes missing
    add("short member", members={**good, "0/kernel.npy": short})
    add("bad header", members={**good, "0/kernel.npy": header[:10] + b"{__import__('os')}".ljust(hlen) + header[10 + hlen:]})
    return out


def test_hostile_files_raise_value_error_and_leave_weights_unchanged(saved, tmp_path):
    model, path = saved
    target = make_model(seed=2)
    before = target.get_weights()
    cases = hostile_files(path, tmp_path)
    assert len(cases) >= 15
    for label, p in cases:
        with pytest.raises(ValueError) as info:
            target.load_weights(p)
        assert str(p) in str(info.value) or "load_weights" in str(info.value), label
        assert_unchanged(target, before)
    target.load_weights(path)  # and the good file still loads
    assert_unchanged(target, model.get_weights())


def test_path_tricks(saved, tmp_path):
    model, path = saved
    target = make_model(seed=2)
    before = target.get_weights()
    for bad in (tmp_path / "missing.npz", tmp_path, str(tmp_path) + "/", "w.npz\0.npz", tmp_path / "w.h5"):
        with pytest.raises(ValueError):
            target.load_weights(bad)
    d = tmp_path / "dir.npz"
    d.mkdir()
    with pytest.raises(ValueError):
        target.load_weights(d)
    with pytest.raises(ValueError):
        model.save_weights(d)
    assert d.is_dir()
    with pytest.raises(TypeError):
        target.load_weights(12)
    assert_unchanged(target, before)
    # bytes paths, relative paths through '..' and symlinks behave like the plain path
    target.load_weights(os.fsencode(path))
    sub = tmp_path / "sub"
    sub.mkdir()
    target.load_weights(sub / ".." / "w.npz")
    link = tmp_path / "link.npz"
    link.symlink_to(path)
    model.save_weights(link)
    assert link.is_symlink()  # saving through a symlink replaces its target, keeps the link
    target.load_weights(link)
    assert_unchanged(target, model.get_weights())


def test_save_is_atomic_when_the_write_fails(saved, tmp_path, monkeypatch):
    model, path = saved
    original = path.read_bytes()
    other = make_model(seed=7)

    def failing_savez(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="simulated"):
        other.save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["w.npz"]  # no temporary left behind
    # and an interruption (KeyboardInterrupt) mid-write is the same
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        other.save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["w.npz"]
    other.save_weights(path)  # a successful save replaces it
    fresh = make_model(seed=3)
    fresh.load_weights(path)
    assert_unchanged(fresh, other.get_weights())


def test_save_keeps_file_permissions(saved):
    model, path = saved
    os.chmod(path, 0o640)
    model.save_weights(path)
    assert os.stat(path).st_mode & 0o777 == 0o640
