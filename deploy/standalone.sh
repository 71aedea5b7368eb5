#!/usr/bin/env bash
# Submit a prompt-das command to a Spark standalone cluster.
#
#   SPARK_MASTER=spark://head:7077 deploy/standalone.sh train -c conf/mitoem-h-to-r.conf
#
# One training worker (task) per executor, using all of the executor's cores: ND4J parallelises
# each step itself, and two tasks in one JVM would hold two copies of the network. Set
# PROMPT_DAS_EXECUTOR_CORES / _MEMORY / PROMPT_DAS_EXECUTORS to size them, PROMPT_DAS_GPU=1 for one
# GPU per executor (needs the -Dcuda build and workers started with a GPU discovery script).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/cluster-common.sh"
exec "$here/spark-submit.sh" --master "${SPARK_MASTER:?set SPARK_MASTER=spark://host:7077}" \
  --deploy-mode client --total-executor-cores "$((executors * cores))" "${common[@]}" -- "$@"
