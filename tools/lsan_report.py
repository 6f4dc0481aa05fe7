"""A LeakSanitizer check from inside a running Python, and the filter that keeps tensorlet's
leaks (used by tools/leak_check.py and tools/lsan_pytest.py; see tools/sanitize.sh).

check_now() calls __lsan_do_recoverable_leak_check() while the interpreter is alive, with
LSan's report (written to fd 2) captured. Everything Python still uses is then reachable from
the interpreter's state, so a report is memory nothing points to any more, not CPython's
exit-time leftovers. One blind spot, with its consequence for callers: the locals of a running
Python frame live in CPython's mmap'ed frame stack, which LSan does not scan, so an object
referenced only from there looks leaked. Callers check from a frame that holds no tensorlet
objects, after the work has returned.

A report is ours when its allocation stack has a frame in the _core module (our C++ in csrc/
and the pybind11 glue compiled into it); stack_trace_format must print the module in {braces}
(tools/sanitize.sh sets it). Reports without such a frame are CPython's or NumPy's.
"""
import ctypes
import gc
import os
import re
import tempfile

FRAME = re.compile(r"^\s+#\d+ ")
TL_FRAME = re.compile(r"#\d+ 0x[0-9a-f]+ in tl::")
HEADER = re.compile(r"^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) object\(s\) allocated from:")
OURS = re.compile(r"\{[^}]*/_core[^/}]*\.so\}|/csrc/|\btl::")


def lsan_available():
    return hasattr(ctypes.CDLL(None), "__lsan_do_recoverable_leak_check")


def check_now():
    """Collects garbage, runs LSan's check, returns (leaks found, LSan's report text)."""
    check = ctypes.CDLL(None).__lsan_do_recoverable_leak_check
    gc.collect()
    saved = os.dup(2)
    try:
        # TENSORLET_LSAN_STDERR names a file that outlives the process: if LSan itself fails
        # (it aborts), what it printed is still there for tools/sanitize.sh to show.
        path = os.environ.get("TENSORLET_LSAN_STDERR")
        with (open(path, "w+") if path else tempfile.TemporaryFile(mode="w+")) as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                found = check()
            finally:
                os.dup2(saved, 2)
            tmp.seek(0)
            return bool(found), tmp.read()
    finally:
        os.close(saved)


def check_and_split():
    """check_now(), then (found, text, ours, others): the parsed reports with and without a
    _core frame. TENSORLET_LSAN_REPORT=PATH also writes LSan's whole report there."""
    found, text = check_now()
    if os.environ.get("TENSORLET_LSAN_REPORT"):
        with open(os.environ["TENSORLET_LSAN_REPORT"], "w") as fh:
            fh.write(text)
    reports = parse_reports(text)
    return found, text, [r for r in reports if is_ours(r[3])], [r for r in reports if not is_ours(r[3])]


def parse_reports(text):
    """The leak reports in LSan's output: [(kind, bytes, objects, [frame lines])]."""
    reports, cur = [], None
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            cur = (m.group(1), int(m.group(2)), int(m.group(3)), [])
            reports.append(cur)
        elif cur is not None and FRAME.match(line):
            cur[3].append(line.strip())
        elif cur is not None and line.strip() == "":
            cur = None
    return reports


def is_ours(frames):
    """A frame in the _core module, in our sources, or in namespace tl."""
    return any(OURS.search(f) for f in frames)


def short(frame):
    """A frame line without its address and module, cut to a readable length."""
    frame = re.sub(r"^#(\d+) 0x[0-9a-f]+ in ", r"#\1 ", frame)
    frame = re.sub(r" \{[^}]*\}$", "", frame)
    return frame if len(frame) <= 160 else frame[:157] + "..."


def summarize(reports, limit=10, frames=16):
    """Lines describing the reports that are ours (the first `limit`, `frames` frames each)."""
    out = []
    for kind, nbytes, nobj, stack in reports[:limit]:
        out.append(f"{kind} leak of {nbytes} byte(s) in {nobj} object(s) allocated from:")
        out.extend("    " + short(f) for f in stack[:frames])
    return out
