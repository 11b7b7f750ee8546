#!/usr/bin/env bash
# Installs bentov's build and test dependencies: Debian packages only.
# Usage: sudo scripts/install-deps.sh   (or as root)
set -euo pipefail
packages=(
  build-essential cmake pkg-config ninja-build
  libopenblas-dev            # sgemm for every projection
  libdnnl-dev                # oneDNN: bf16 products on the CPU (--dtype bf16)
  ocl-icd-opencl-dev         # OpenCL, which Debian's oneDNN CMake package requires
  nlohmann-json3-dev         # config.json, tokenizer.json, safetensors headers, --json
  libcli11-dev               # command line
  libfmt-dev                 # formatting
  libpcre2-dev               # GPT-2 pre-tokenizer regex with Unicode properties (UCP)
  libutf8proc-dev            # NFC normalization
  libcurl4-openssl-dev       # Hugging Face Hub downloads
  ca-certificates            # HTTPS to the Hub (libcurl's CA bundle)
  libssl-dev                 # sha256 of downloaded files (libcrypto)
  libgtest-dev libgmock-dev  # tests
  libbenchmark-dev           # kernel benchmarks
  gnuplot-nox                # figures (pngcairo / svg terminals)
  fonts-dejavu-core          # a font for the figures
  python3 python3-venv python3-dev  # test helpers; the Python package's venv and headers
  clang-14 libclang-rt-14-dev  # libFuzzer targets (scripts/fuzz.sh, BENTOV_FUZZ=ON)
  chromium                   # the HTML report opened headless by the tests (tests/browser)
  libopenmpi-dev openmpi-bin  # BENTOV_WITH_MPI=ON: analyze/sweep under mpirun (docs/CLUSTER.md)
)
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all ${#packages[@]} packages present"
