"""ModelCheckpoint, ReduceLROnPlateau, CSVLogger, LearningRateScheduler, LambdaCallback and
BackupAndRestore driving real fits, checked against what Keras 3's rules give."""
import csv
import os

import numpy as np
import pytest

from tensorlet import callbacks, layers, models, optimizers, utils


def data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0], np.float32))[:, None]
    return x, y


def model(lr=0.01, optimizer=None):
    utils.set_random_seed(1)
    m = models.Sequential([layers.Dense(3, activation="tanh", input_shape=(4,)), layers.Dense(1)])
    m.compile(optimizer=optimizer or optimizers.SGD(lr), loss="mse")
    return m


class Record(callbacks.Callback):
    """The learning rate each epoch starts with."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        self.rates.append(self.model.optimizer.learning_rate)


def test_model_checkpoint_every_epoch_formats_epoch_and_logs(tmp_path):
    x, y = data()
    pattern = str(tmp_path / "w.{epoch:02d}-{loss:.3f}.weights.npz")
    m = model()
    history = m.fit(x, y, epochs=3, batch_size=16, verbose=0,
                    callbacks=[callbacks.ModelCheckpoint(pattern, monitor="loss", save_weights_only=True)])
    names = sorted(os.listdir(tmp_path))
    assert names == [f"w.{e + 1:02d}-{loss:.3f}.weights.npz" for e, loss in enumerate(history.history["loss"])]
    fresh = model()
    fresh.load_weights(str(tmp_path / names[-1]))
    for a, b in zip(fresh.get_weights(), m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_save_best_only_keeps_the_best_epoch(tmp_path):
    x, y = data()
    path = str(tmp_path / "best.weights.npz")
    saved = {}

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved[epoch] = (logs["val_loss"], self.model.get_weights())

    m = model(lr=0.5)  # a large rate: the validation loss goes up and down
    checkpoint = callbacks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True)
    m.fit(x, y, epochs=6, batch_size=8, verbose=0, validation_data=(x[:16], y[:16]),
          callbacks=[Snapshot(), checkpoint])
    best_epoch = min(saved, key=lambda e: saved[e][0])
    assert checkpoint.best == saved[best_epoch][0]
    fresh = model()
    fresh.load_weights(path)
    for a, b in zip(fresh.get_weights(), saved[best_epoch][1]):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_mode_max_threshold_and_missing_monitor(tmp_path):
    x, y = data()
    path = str(tmp_path / "m.weights.npz")
    cb = callbacks.ModelCheckpoint(path, monitor="loss", mode="max", save_best_only=True, save_weights_only=True,
                                   initial_value_threshold=1e9)
    model().fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert not os.path.exists(path)  # no loss beat 1e9 in 'max' mode
    with pytest.warns(UserWarning, match="only with nope available"):
        model().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(
            path, monitor="nope", save_best_only=True, save_weights_only=True)])


def test_model_checkpoint_save_freq_in_batches(tmp_path):
    x, y = data()
    pattern = str(tmp_path / "e{epoch}b{batch}.weights.npz")
    model().fit(x, y, epochs=2, batch_size=16, verbose=0,
                callbacks=[callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=2)])
    assert sorted(os.listdir(tmp_path)) == ["e1b2.weights.npz", "e2b1.weights.npz", "e2b3.weights.npz"]


def test_model_checkpoint_bad_paths(tmp_path):
    with pytest.raises(ValueError, match=".weights.h5"):
        callbacks.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match=".keras"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.h5"))
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq=0)
    m = model()
    if not callable(getattr(m, "save", None)):  # until model.save exists, a .keras checkpoint says why it cannot
        with pytest.raises(ValueError, match="needs model.save"):
            m.fit(*data(), epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))])
    x, y = data()
    with pytest.raises(KeyError, match="no log named .*val_acc"):
        model().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(
            str(tmp_path / "{val_acc}.weights.npz"), save_weights_only=True)])


def test_reduce_lr_on_plateau_follows_keras_rules():
    m = model(lr=0.1)
    cb = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=1, min_lr=0.02, min_delta=0.0)
    cb.set_model(m)
    cb.on_train_begin()
    rates = []
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]):
        logs = {"loss": loss}
        cb.on_epoch_end(epoch, logs)
        rates.append(logs["learning_rate"])
    # (the logged rate is the one the epoch ran with) epochs 1, 2 wait -> 0.05 at the end of epoch 2, cooldown 1;
    # epoch 3 ends the cooldown and waits (Keras counts in the same epoch), epoch 4 -> 0.025; epoch 6 ->
    # max(0.0125, min_lr) = 0.02; epoch 7 improves
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02])
    assert m.optimizer.learning_rate == pytest.approx(0.02)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_reduce_lr_on_plateau_in_fit_logs_the_rate():
    x, y = data()
    history = model(lr=0.01).fit(x, y, epochs=3, verbose=0, callbacks=[
        callbacks.ReduceLROnPlateau(monitor="loss", patience=0, min_delta=10.0, factor=0.5)])
    # epoch 0 improves on inf; epochs 1 and 2 do not beat best - 10: the rate halves after each (logged before)
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.005])


def test_learning_rate_scheduler_sets_each_epoch():
    x, y = data()
    record = Record()
    m = model(lr=0.1)
    history = m.fit(x, y, epochs=3, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr), record])
    assert record.rates == pytest.approx([0.1, 0.05, 0.025])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    record = Record()
    model().fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e: 0.1 / (e + 1)),
                                                      record])
    assert record.rates == pytest.approx([0.1, 0.05])
    with pytest.raises(ValueError, match="should be a float"):
        model().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e, lr: "x")])


def test_learning_rate_scheduler_changes_a_captured_step():
    """The rate the scheduler sets is the one the replayed steps use: same weights as eager."""
    x, y = data()
    results = []
    for eager in (False, True):
        m = model(lr=0.1)
        m.compile(optimizer=optimizers.Adam(0.1), loss="mse", run_eagerly=eager)
        m.fit(x, y, epochs=3, batch_size=8, verbose=0,
              callbacks=[callbacks.LearningRateScheduler(lambda e, lr: 0.1 * 0.1 ** e)])
        results.append(m.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_csv_logger(tmp_path):
    x, y = data()
    path = str(tmp_path / "log.csv")
    history = model().fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    assert [float(r[1]) for r in rows[1:]] == pytest.approx(history.history["loss"])
    assert [r[2] for r in rows[1:]] == ["NA", "NA"]
    model().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, separator=";", append=True)])
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    assert len(lines) == 4 and lines[3].startswith("0;")  # no second header


def test_lambda_callback():
    x, y = data()
    seen = []
    cb = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, sorted(logs))),
                                  on_train_end=lambda logs: seen.append("end"),
                                  on_test_end=lambda logs: seen.append("test"))
    model().fit(x, y, epochs=2, verbose=0, callbacks=[cb], validation_data=(x, y))
    assert seen == ["test", (0, ["loss", "val_loss"]), "test", (1, ["loss", "val_loss"]), "end"]
    with pytest.raises(ValueError, match="unknown hook"):
        callbacks.LambdaCallback(on_epoch_ended=print)


def test_backup_and_restore_resumes_an_interrupted_fit(tmp_path):
    x, y = data()
    backup = str(tmp_path / "backup")

    class Interrupt(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    m = model()
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, epochs=4, batch_size=16, verbose=0, shuffle=False,
              callbacks=[callbacks.BackupAndRestore(backup), Interrupt()])
    assert os.path.exists(os.path.join(backup, "training_metadata.json"))
    backed_up = model()
    backed_up.load_weights(os.path.join(backup, "latest.weights.npz"))
    epochs = []
    resumed = model()
    resumed.fit(x, y, epochs=4, batch_size=16, verbose=0, shuffle=False, callbacks=[
        callbacks.BackupAndRestore(backup), callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))])
    assert epochs == [2, 3]  # the backup (listed before Interrupt) saved epoch 1 before the interruption
    assert not os.path.exists(backup)  # deleted at the end of a completed fit
    # the same as training the backed-up weights (SGD keeps no state) for the 2 remaining epochs
    reference = backed_up
    reference.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_backup_and_restore_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="Empty"):
        callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(str(tmp_path), save_freq="batch")
    os.makedirs(tmp_path / "b")
    (tmp_path / "b" / "training_metadata.json").write_text('{"epoch": "x"}')
    x, y = data()
    with pytest.raises(ValueError, match="damaged"):
        model().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.BackupAndRestore(str(tmp_path / "b"))])
