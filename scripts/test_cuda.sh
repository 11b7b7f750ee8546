#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: the whole test suite with the CUDA backend's tests running
# there (fixtures and notebook references on the GPU, CPU against CUDA results).
#
# Built on a project machine (Debian 12 with the CUDA toolkit; bentov's other libraries come
# along in a devpack, since the GPU machine lacks them):
#   scripts/build.sh -DBENTOV_BUILD_TESTS=ON -DBENTOV_BUILD_BENCH=ON  # CUDA found: "bentov: CUDA backend ON"
#   scripts/pack_for_device.sh .devpack build/bentov build/bentov_tests build/bentov_make_model build/bentov_bench
# then, on the GPU machine, from the checkout's root (.devpack carried along):
#   scripts/test_cuda.sh [gtest flags]
# e.g. --gtest_filter='*cuda*:*Cuda*:*Bf16*' for the GPU's own tests alone (a minute on an H200).
# Without a devpack it runs the binaries of BENTOV_BUILD_DIR (default build/) as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BENTOV_BUILD_DIR:-build}
if [[ -f .devpack/devpack.tar.xz ]]; then
  dp=$(mktemp -d)
  tar xJf .devpack/devpack.tar.xz -C "$dp"
  export LD_LIBRARY_PATH=$dp/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  mkdir -p "$build"
  cp "$dp"/bin/* "$build/"
fi
# The test binary holds the absolute paths of the tree it was built in (test data, demo models,
# the CLI): make that path lead here.
built_root=$(grep -a -o -m1 '/[[:alnum:]_./+-]*/tests/data' "$build/bentov_tests" | head -1 | sed 's|/tests/data$||')
if [[ -n $built_root && $built_root != "$root" && ! -e $built_root ]]; then
  mkdir -p "$(dirname "$built_root")"
  ln -s "$root" "$built_root"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "test_cuda.sh: no nvidia-smi"
"$build/bentov" --version
# Figures need gnuplot (CI installs it); a GPU machine without it skips the tests that draw.
filter=()
if ! command -v gnuplot >/dev/null 2>&1 && [[ -z ${BENTOV_GNUPLOT:-} ]]; then
  echo "test_cuda.sh: no gnuplot here: leaving out the tests that draw figures"
  filter=(--gtest_filter='-*valid_analyze*:Cli.AnalyzeWritesJsonCsvAndTable:SweepCli.FoldersInOrderAndCompare:Sweep.TableJsonAndFigureOverCheckpoints:ReportPlot*:*Plot*:HtmlCli.OutDirWritesReportHtmlForTheDemoModels:HtmlCli.SweepAndCompare')
fi
"$build/bentov_tests" --gtest_brief=1 "${filter[@]}" "$@"
