#!/usr/bin/env bash
# ASan + UBSan (+ LeakSanitizer) build of the extension and test runs under it.
#   tools/sanitize.sh                    # the whole suite, with a leak check at its end (below)
#   tools/sanitize.sh tests/test_x.py    # a subset (any pytest arguments)
#   tools/sanitize.sh --leaks [NAME...]  # the dedicated leak checks (below)
#   tools/sanitize.sh --build            # only build (CI starts it while the plain suite runs)
# TENSORLET_SANITIZE_SHARDS=N runs the pytest session as N processes at once, each a shard of
# the tests (tools/shard_pytest.py; test i in shard i mod N), each with its own leak check.
# Builds in build-sanitize/ (-O1 -g1, line tables only; the bindings and the per-dtype
# elementwise kernels -O0, see CMakeLists.txt) and puts a copy of the Python package with the
# sanitized _core in build-sanitize/py/, so the normal build in python/ is untouched.
# The Python interpreter is not instrumented, so the ASan runtime is LD_PRELOADed.
# allocator_may_return_null=1: a huge allocation returns NULL (so the core raises MemoryError,
# which tests check) instead of ASan aborting with allocation-size-too-big.
# PYTHONMALLOC=malloc: route Python's allocations through malloc so ASan sees them.
# TENSORLET_SANITIZED=1 skips the tests that measure RSS (ASan's quarantine keeps freed memory).
# Any ASan/UBSan report aborts the process (halt_on_error / -fno-sanitize-recover), failing the run.
#
# Leaks. LSan's exit-time check is off for Python (leak_check_at_exit=0): CPython does not free
# everything at exit (interned objects, static types), which would bury real reports. Instead
# the check runs while the interpreter is alive (tools/lsan_report.py), when all Python still
# uses is reachable, and fails on reports whose allocation stack has a frame in _core; there is
# no suppression list. The pytest run does that once at the end of the session
# (tools/lsan_pytest.py, fast unwinding). --leaks runs (1) tests/cpp/leak_tests.cpp, the core
# without Python under LSan's ordinary exit-time check, with no filter at all; (2)
# tools/leak_check.py, the scenarios of tests/test_memory.py and more, with whole allocation
# stacks; (3) its self-test, a deliberate reference cycle that must be reported.
# TENSORLET_LSAN_REPORT=PATH keeps LSan's whole report of a Python check.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${TENSORLET_SANITIZE_BUILD:-$ROOT/build-sanitize}
SAN=${TENSORLET_SANITIZE:-address,undefined}
PY=${PYTHON:-python}
PYBIND_DIR=$("$PY" -m pybind11 --cmakedir)
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
command -v ccache >/dev/null && GEN+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
mkdir -p "$BUILD/py"
rm -rf "$BUILD/py/tensorlet"
cp -r python/tensorlet "$BUILD/py/tensorlet"
rm -f "$BUILD"/py/tensorlet/_core*.so
cmake -S . -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
      -DTENSORLET_SANITIZE="$SAN" -DTENSORLET_MODULE_DIR="$BUILD/py/tensorlet" -DTENSORLET_BUILD_TESTS=ON \
      -DPython_EXECUTABLE="$(command -v "$PY")" -Dpybind11_DIR="$PYBIND_DIR" >/dev/null
cmake --build "$BUILD" -j"${JOBS:-2}" --target _core
if [ "${1:-}" = "--build" ]; then
  cmake --build "$BUILD" -j"${JOBS:-2}" --target tensorlet_leak_tests
  exit 0
fi
PRELOAD=$(g++ -print-file-name=libasan.so)
case "$SAN" in *undefined*) PRELOAD="$PRELOAD:$(g++ -print-file-name=libubsan.so)";; esac
ASAN_BASE="allocator_may_return_null=1:halt_on_error=1:abort_on_error=1"
# The module of every frame in {braces}: the filter recognises _core's frames by it.
export LSAN_OPTIONS="stack_trace_format='    #%n %p %F %L {%m}'${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TENSORLET_SANITIZED=1

if [ "${1:-}" = "--leaks" ]; then
  shift
  # (1) The core alone: exit-time check, any leak fails (exit code 23).
  cmake --build "$BUILD" -j"${JOBS:-2}" --target tensorlet_leak_tests
  echo "LeakSanitizer: the core without Python ($BUILD/tensorlet_leak_tests)"
  ASAN_OPTIONS="detect_leaks=1:exitcode=23:allocator_may_return_null=1:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    "$BUILD/tensorlet_leak_tests"
  # (2) The Python scenarios, then (3) the self-test. fast_unwind_on_malloc=0: whole
  # allocation stacks through libpython and NumPy, which have no frame pointers.
  for mode in check self-test; do
    SELF=(); [ "$mode" = self-test ] && SELF=(--expect-leak)
    echo "LeakSanitizer: tools/leak_check.py ${SELF[*]:-}$*"
    LD_PRELOAD="$PRELOAD" PYTHONMALLOC=malloc PYTHONPATH="$BUILD/py" \
    ASAN_OPTIONS="detect_leaks=1:leak_check_at_exit=0:fast_unwind_on_malloc=0:malloc_context_size=40:$ASAN_BASE${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
      "$PY" tools/leak_check.py "${SELF[@]}" "$@"
  done
  exit 0
fi

ARGS=("$@"); [ ${#ARGS[@]} -eq 0 ] && ARGS=(tests)
SHARDS=${TENSORLET_SANITIZE_SHARDS:-1}
FATAL="LeakSanitizer has encountered a fatal error"

# One shard's pytest session; its output goes to $BUILD/shard-K.log when there are several.
run_shard() {
  local k=$1
  LD_PRELOAD="$PRELOAD" PYTHONMALLOC=malloc PYTHONPATH="$BUILD/py:$ROOT/tools" \
  TENSORLET_SHARD="$k/$SHARDS" TENSORLET_LSAN_STDERR="$BUILD/lsan-stderr-$k.txt" \
  ASAN_OPTIONS="detect_leaks=1:leak_check_at_exit=0:$ASAN_BASE${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    "$PY" -m pytest -q -p no:cacheprovider -p lsan_pytest -p shard_pytest "${ARGS[@]}"
}

if [ "$SHARDS" -le 1 ]; then
  SHARDS=1
  rm -f "$BUILD/lsan-stderr-0.txt"
  run_shard 0
  exit $?
fi
rm -f "$BUILD"/lsan-stderr-*.txt
pids=()
for ((k = 0; k < SHARDS; k++)); do
  run_shard "$k" > "$BUILD/shard-$k.log" 2>&1 &
  pids+=($!)
done
status=0
for ((k = 0; k < SHARDS; k++)); do
  rc=0; wait "${pids[$k]}" || rc=$?
  # LSan's end-of-session check aborting on its own (its tracer failed, seen once under load)
  # gives no verdict on leaks: that shard runs once more. Anything else is a failure.
  if [ $rc -ne 0 ] && grep -q "$FATAL" "$BUILD/lsan-stderr-$k.txt" 2>/dev/null; then
    echo "=== shard $k/$SHARDS: LeakSanitizer's own check failed, not a leak; running the shard again:"
    cat "$BUILD/lsan-stderr-$k.txt"
    rc=0; run_shard "$k" > "$BUILD/shard-$k.log" 2>&1 || rc=$?
  fi
  echo "=== shard $k/$SHARDS (exit $rc)"
  cat "$BUILD/shard-$k.log"
  if [ $rc -ne 0 ]; then
    [ -s "$BUILD/lsan-stderr-$k.txt" ] && { echo "--- LeakSanitizer's output:"; cat "$BUILD/lsan-stderr-$k.txt"; }
    status=$rc
  fi
done
exit $status
