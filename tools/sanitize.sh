#!/usr/bin/env bash
# ASan + UBSan build of the extension and a test run under it.
#   tools/sanitize.sh                 # the whole suite
#   tools/sanitize.sh tests/test_x.py # a subset (any pytest arguments)
# Builds in build-sanitize/ (Debug-ish -O1) and puts a copy of the Python package with the
# sanitized _core in build-sanitize/py/, so the normal build in python/ is untouched.
# The Python interpreter is not instrumented, so the ASan runtime is LD_PRELOADed.
# detect_leaks=0: CPython itself leaks at exit (interned objects, static types), which would
# drown real reports; leaks are checked by the RSS tests in tests/test_memory.py instead.
# allocator_may_return_null=1: a huge allocation returns NULL (so the core raises MemoryError,
# which tests check) instead of ASan aborting with allocation-size-too-big.
# PYTHONMALLOC=malloc: route Python's allocations through malloc so ASan sees them.
# TENSORLET_SANITIZED=1 skips the tests that measure RSS (ASan's quarantine keeps freed memory).
# Any sanitizer report aborts the process (halt_on_error / -fno-sanitize-recover), failing the run.
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
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
      -DTENSORLET_SANITIZE="$SAN" -DTENSORLET_MODULE_DIR="$BUILD/py/tensorlet" \
      -DPython_EXECUTABLE="$(command -v "$PY")" -Dpybind11_DIR="$PYBIND_DIR" >/dev/null
cmake --build "$BUILD" -j"${JOBS:-2}" --target _core
PRELOAD=$(g++ -print-file-name=libasan.so)
case "$SAN" in *undefined*) PRELOAD="$PRELOAD:$(g++ -print-file-name=libubsan.so)";; esac
ARGS=("$@"); [ ${#ARGS[@]} -eq 0 ] && ARGS=(tests)
LD_PRELOAD="$PRELOAD" PYTHONMALLOC=malloc PYTHONPATH="$BUILD/py" \
ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:halt_on_error=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
TENSORLET_SANITIZED=1 \
  "$PY" -m pytest -q -p no:cacheprovider "${ARGS[@]}"
