#!/usr/bin/env bash
# Regenerates pipeline-core/src/test/resources/metrics-parity.jsonl: writes the generated parity
# cases (ParityCases) as PNGs and scores them with the reference ../shared/reference/metrics_ref.py.
# Needs Debian's python3-numpy python3-opencv python3-pil. Run after changing ParityCases.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ref=${METRICS_REF:-$root/../shared/reference/metrics_ref.py}
py=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
mvn -B -q -o -Dstyle.color=never test-compile -pl pipeline-core
cp=$(mvn -B -q -o -Dstyle.color=never dependency:build-classpath -pl pipeline-core -Dmdep.outputFile=/dev/stdout)
java -cp "pipeline-core/target/classes:pipeline-core/target/test-classes:$cp" \
  org.promptdas.core.metrics.ParityCases "$work"
"$py" "$ref" "$work/pred" "$work/gt" | grep '"slice"' > pipeline-core/src/test/resources/metrics-parity.jsonl
wc -l pipeline-core/src/test/resources/metrics-parity.jsonl
