#!/usr/bin/env bash
# Submit a prompt-das command to Kubernetes.
#
#   K8S_API=https://k8s.example.org:6443 PROMPT_DAS_IMAGE=registry/prompt-das:0.1.0 \
#     deploy/k8s.sh infer -c conf/mitoem-h-to-r.conf --images s3a://em/R/test/img --model s3a://em/runs/wda/model.pdas --out s3a://em/pred
#
# The image must hold Spark 3.5.x (Scala 2.12), Java 17 and the cluster jar at
# /opt/prompt-das/prompt-das.jar (e.g. FROM apache/spark:3.5.x-java17 and COPY the -Pcluster jar);
# inputs and outputs on s3a:// or hdfs:// (pods have no shared disk). PROMPT_DAS_GPU=1 requests
# one nvidia.com/gpu per executor pod. Sizing as in cluster-common.sh; the memory overhead factor
# leaves room for ND4J's off-heap arrays.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/cluster-common.sh"
export PROMPT_DAS_JAR=local:///opt/prompt-das/prompt-das.jar
k8s=(--conf "spark.kubernetes.container.image=${PROMPT_DAS_IMAGE:?set PROMPT_DAS_IMAGE}"
  --conf "spark.kubernetes.namespace=${PROMPT_DAS_NAMESPACE:-default}"
  --conf "spark.kubernetes.authenticate.driver.serviceAccountName=${PROMPT_DAS_SERVICE_ACCOUNT:-spark}"
  --conf spark.kubernetes.memoryOverheadFactor=0.4)
[ "${PROMPT_DAS_GPU:-0}" = 1 ] && k8s+=(--conf spark.executor.resource.gpu.vendor=nvidia.com)
exec "$here/spark-submit.sh" --master "k8s://${K8S_API:?set K8S_API=https://host:port}" \
  --deploy-mode cluster --conf "spark.executor.instances=$executors" "${k8s[@]}" "${common[@]}" -- "$@"
