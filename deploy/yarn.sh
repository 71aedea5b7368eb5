#!/usr/bin/env bash
# Submit a prompt-das command to YARN (cluster deploy mode: the driver runs in the cluster).
#
#   deploy/yarn.sh train -c conf/mitoem-h-to-r.conf --set train.partitions=8
#
# Sizing as in cluster-common.sh (PROMPT_DAS_EXECUTORS, _EXECUTOR_CORES, _EXECUTOR_MEMORY,
# PROMPT_DAS_OVERHEAD for ND4J's off-heap arrays, PROMPT_DAS_GPU=1 for one GPU per executor through
# YARN's yarn.io/gpu resource). PROMPT_DAS_QUEUE picks the queue. Configuration files named with -c
# are shipped with --files and read from the container's working directory.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/cluster-common.sh"
args=()
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    -c|--config) files+=("$2"); args+=("$1" "$(basename "$2")"); shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
extra=()
[ ${#files[@]} -gt 0 ] && extra+=(--files "$(IFS=,; echo "${files[*]}")")
exec "$here/spark-submit.sh" --master yarn --deploy-mode cluster --queue "${PROMPT_DAS_QUEUE:-default}" \
  --num-executors "$executors" "${extra[@]}" "${common[@]}" -- "${args[@]}"
