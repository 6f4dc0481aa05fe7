#!/usr/bin/env bash
# Runs the Array API standard's own test suite (pinned in ../shared/array-api-tests, read-only)
# on tensorlet: copies it to a temporary directory and runs it there, skipping the linalg and
# fft extensions (a later issue), with tests/array_api/xfails.txt (every line has its reason).
#
#   tools/run_array_api_tests.sh [--max-examples N] [extra pytest args]   (default N = 5)
#
# The suite runs unmodified: tensorlet has every dtype it names (complex64/complex128 included).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
src=${ARRAY_API_TESTS_DIR:-$repo/../shared/array-api-tests}
[ -d "$src" ] || src=$repo/../../shared/array-api-tests  # a git worktree one level deeper
[ -d "$src" ] || { echo "no array-api-tests at $src: skipped"; exit 0; }
max_examples=5
if [ "${1:-}" = "--max-examples" ]; then max_examples=$2; shift 2; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src" "$tmp/aat"
# The suite's own requirements (its requirements.txt), installed when missing: they are the
# external suite's, not tensorlet's, so they stay out of pyproject.toml.
python -c "import pytest_jsonreport, ndindex, hypothesis" 2>/dev/null ||
  python -m pip install -q -r "$tmp/aat/requirements.txt"
cd "$tmp/aat"
# The sources when the extension was built beside them (CMake), else the installed package (CI).
# A snapshot of them, so that a rebuild during the run does not swap the extension under it.
if ls "$repo"/python/tensorlet/_core*.so >/dev/null 2>&1; then
  mkdir -p "$tmp/pkg" && cp -r "$repo/python/tensorlet" "$tmp/pkg/"
  export PYTHONPATH="$tmp/pkg${PYTHONPATH:+:$PYTHONPATH}"
fi
# tests/array_api/aat_plugin.py drops Hypothesis's slow `explain` phase (see its docstring).
export PYTHONPATH="$repo/tests/array_api${PYTHONPATH:+:$PYTHONPATH}"
# AAT_TARGETS: a subset of the suite's files (default: all of array_api_tests/).
ARRAY_API_TESTS_MODULE=tensorlet timeout 1800 python -m pytest ${AAT_TARGETS:-array_api_tests} -q -p no:cacheprovider \
  -k "not (linalg or fft)" --max-examples "$max_examples" -p aat_plugin --xfails-file "$repo/tests/array_api/xfails.txt" \
  --disable-warnings -rN --hypothesis-seed=0 "$@"
