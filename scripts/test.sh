#!/usr/bin/env bash
# What CI runs (.ci/run), on a fresh Debian 12: installs dependencies, then
#   1. builds in Release with warnings as errors, MPI and the Python extension (build/) and runs
#      the whole test suite,
#      mpirun -n 4 against one process included (tests/mpi/), on OpenBLAS's own kernel choice
#      and then once per OpenBLAS core type the CPU can execute (scripts/blas_cores.sh:
#      Sandybridge, Haswell, Zen, SkylakeX, Cooperlake); then the Python package's pytest suite
#      and notebook (in .venv, scripts/python_env.sh) and `pip install .` into a fresh venv;
#   2. builds again with clang under AddressSanitizer + UndefinedBehaviorSanitizer, without MPI
#      and without CUDA (so those builds stay tested), with the
#      libFuzzer targets in the same build (build-asan/), and runs the whole suite there (every
#      CLI test then also proves "no sanitizer report");
#   3. runs each libFuzzer target of that build for BENTOV_FUZZ_SECONDS (default 20) from its
#      committed seed corpus.
# BENTOV_TEST_STAGES picks stages (default "release asan fuzz").
set -euo pipefail
cd "$(dirname "$0")/.."
stages="${BENTOV_TEST_STAGES:-release asan fuzz}"
scripts/install-deps.sh
t0=$SECONDS
stamp() { echo "test.sh: $1 done after $((SECONDS - t0)) s"; }

if [[ " $stages " == *" release "* ]]; then
  py=$(scripts/python_env.sh)  # .venv with python/requirements-dev.txt
  scripts/build.sh -DBENTOV_WERROR=ON -DBENTOV_BUILD_TESTS=ON -DBENTOV_WITH_MPI=ON -DBENTOV_PYTHON=ON \
    -DPython_EXECUTABLE="$py"
  echo "test.sh: the suite on OpenBLAS's own choice: $("${BENTOV_BUILD_DIR:-build}/bentov" --version)"
  ctest --test-dir "${BENTOV_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
  # Bits and rounding depend on the sgemm kernels, so the whole suite runs again on every
  # OpenBLAS core type this CPU can execute (scripts/blas_cores.sh): green here is green on any
  # x86-64 machine whose kernels are among these.
  for core in $(scripts/blas_cores.sh); do
    echo "test.sh: the suite on OPENBLAS_CORETYPE=$core"
    OPENBLAS_CORETYPE=$core ctest --test-dir "${BENTOV_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
  done
  scripts/test_install.sh  # the installed binary finds the demo models
  # The Python package from the build tree (tests/python, the example notebook included);
  # pytest's exit code 5 (no test ran) fails like any other.
  PYTHONPATH="${BENTOV_BUILD_DIR:-build}/python" BENTOV_CLI="${BENTOV_BUILD_DIR:-build}/bentov" \
    "$py" -m pytest -q -p no:cacheprovider tests/python
  BENTOV_PIP_CMAKE_ARGS="-DBENTOV_CUDA=OFF" scripts/test_pip_install.sh  # pip install . in a fresh venv
  stamp release
fi

if [[ " $stages " == *" asan "* ]]; then
  # One clang build serves the sanitized tests and the fuzzers (BENTOV_FUZZ instruments
  # everything with ASan + UBSan, every UBSan finding fatal); -O1 keeps it quick.
  BENTOV_BUILD_DIR=build-asan scripts/build.sh -DCMAKE_CXX_COMPILER="$(command -v clang++ || command -v clang++-14)" \
    -DBENTOV_WERROR=ON -DBENTOV_BUILD_TESTS=ON -DBENTOV_FUZZ=ON -DBENTOV_CUDA=OFF -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG"
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
  stamp asan
fi

if [[ " $stages " == *" fuzz "* ]]; then
  # Reuses build-asan when the asan stage built it (it holds the fuzz targets).
  [[ -f build-asan/CMakeCache.txt ]] && grep -q '^BENTOV_FUZZ:BOOL=ON' build-asan/CMakeCache.txt &&
    export BENTOV_FUZZ_BUILD_DIR=build-asan
  scripts/fuzz.sh all "${BENTOV_FUZZ_SECONDS:-20}"
  stamp fuzz
fi
