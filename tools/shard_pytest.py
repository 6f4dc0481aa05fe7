"""pytest plugin that runs one shard of the collected tests (tools/sanitize.sh loads it with
-p shard_pytest and TENSORLET_SHARD=k/N): test i runs in shard i mod N. Dealing out single
tests rather than whole files keeps the shards even, since a file's parametrised cases (and
their cost) sit next to each other. Without TENSORLET_SHARD it does nothing."""
import os


def pytest_collection_modifyitems(config, items):
    spec = os.environ.get("TENSORLET_SHARD")
    if not spec:
        return
    k, n = (int(v) for v in spec.split("/"))
    if not 0 <= k < n:
        raise ValueError(f"TENSORLET_SHARD={spec!r}: want k/N with 0 <= k < N")
    keep = [item for i, item in enumerate(items) if i % n == k]
    config.hook.pytest_deselected(items=[item for i, item in enumerate(items) if i % n != k])
    items[:] = keep
