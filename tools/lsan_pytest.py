"""pytest plugin for the ASan run of the whole suite (tools/sanitize.sh loads it with
-p lsan_pytest): when the session ends, every test has returned and its objects are gone, so it
runs a LeakSanitizer check with the interpreter still alive (tools/lsan_report.py) and fails
the session on reports whose allocation stack has a frame in tensorlet's _core. The suite runs
with fast unwinding, so a stack may stop at the first library built without frame pointers;
our allocations keep their _core frames (they are the innermost ones), which is what the
filter needs. tools/leak_check.py is the focused check with whole stacks."""
import pytest

from lsan_report import check_and_split, lsan_available, summarize


_lines = []  # what the check found, printed in the terminal summary


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if not lsan_available():
        return
    found, text, ours, others = check_and_split()
    if found and not ours and not others:
        _lines.append("LeakSanitizer found leaks but its report could not be parsed:\n" + text)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif ours:
        _lines.append(f"LEAKS IN TENSORLET after the suite: {len(ours)} report(s), {sum(r[1] for r in ours)} bytes")
        _lines.extend(summarize(ours))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        _lines.append(f"LeakSanitizer after the suite: 0 leaks in tensorlet ({len(others)} report(s) without a "
                      f"_core frame: CPython/NumPy, not failed on)")


def pytest_terminal_summary(terminalreporter):
    for line in _lines:
        terminalreporter.write_line(line)
