#!/usr/bin/env bash
# bentov's attention error against each fixture's transformers float64 reference, under every
# OpenBLAS core type this CPU can run, next to transformers' own float32 error: the numbers the
# bounds of tests/support/fixture_tolerance.h come from.
#   scripts/fixture_errors.sh [BUILD_DIR]      (after a build with BENTOV_BUILD_TESTS=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-${BENTOV_BUILD_DIR:-build}}
for core in $(scripts/blas_cores.sh); do
  OPENBLAS_CORETYPE=$core "$build/bentov_tests" --gtest_filter='Fixtures/ModelFixture.*' 2>/dev/null |
    grep 'attention max |diff|' | sort -u
done | python3 -c '
import json, os, re, sys
rows = {}
for line in sys.stdin:
    m = re.match(r"(\S+): attention max \|diff\| (\S+), bound (\S+) \(OpenBLAS kernels: (\w+)\)", line)
    if m:
        name, diff, bound, core = m.groups()
        rows.setdefault(name, {})[core] = max(float(diff), rows.get(name, {}).get(core, 0.0))
        rows[name]["bound"] = float(bound)
cores = sorted({c for r in rows.values() for c in r if c != "bound"})
print("%-28s %10s" % ("fixture", "tf32 floor") + "".join(" %12s" % c for c in cores) + " %10s %8s" % ("bound", "worst/fl"))
for name in sorted(rows):
    ref = "tests/data/fixtures/" + name if os.path.isdir("tests/data/fixtures/" + name) else "tests/data/demo/" + name
    floor = json.load(open(ref + "/reference.json")).get("transformers_float32", {}).get("attention_max_abs", float("nan"))
    worst = max(rows[name].get(c, 0.0) for c in cores)
    print("%-28s %10.3g" % (name, floor) + "".join(" %12.3g" % rows[name].get(c, float("nan")) for c in cores)
          + " %10.3g %8.2f" % (rows[name]["bound"], worst / floor))
'
