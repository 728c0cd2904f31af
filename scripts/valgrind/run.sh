#!/usr/bin/env bash
# A short test session under valgrind memcheck with the native module (issue: memory safety, checked).
# Exits non-zero on any memcheck error not covered by python.supp (whose entries only match errors whose top
# frame is in libpython or a libc string routine). About 5 minutes on 2 cores.
#
#   bash scripts/valgrind/run.sh [pytest arguments]     (default: the bad-input, axis and memory tests)
set -euo pipefail
cd "$(dirname "$0")/../.."
python=$(python3 -c 'import sys; print(sys.executable)')  # the interpreter itself, not a pyenv shim
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
    select="not mpmath and not thread and (overlap or strided or out or layout or bad or axis or row or glu"
    select+=" or prelu or maxout or empty or special)"
    args=(tests/test_bad_input.py tests/test_axis.py "tests/test_memory.py::test_byte_strides_beyond_32_bits"
          tests/test_api.py -k "$select")
fi
PYTHONMALLOC=malloc exec valgrind --error-exitcode=99 --leak-check=no \
    --suppressions=scripts/valgrind/python.supp "$python" -m pytest -q -p no:cacheprovider "${args[@]}"
