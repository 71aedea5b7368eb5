# Settings shared by standalone.sh, yarn.sh and k8s.sh (sourced, not run).
#   PROMPT_DAS_EXECUTORS        executors (default 4); train.partitions should equal it
#   PROMPT_DAS_EXECUTOR_CORES   cores per executor (default 8), all given to one task
#   PROMPT_DAS_EXECUTOR_MEMORY  JVM heap per executor (default 8g); ND4J's arrays live off-heap and
#                               are sized by PROMPT_DAS_OVERHEAD (default 24g for the paper network's
#                               training step: 7.5 GB at batch 1 with train.recompute-encoder =
#                               auto, the default (12.0 GB without), 13.5 GB at batch 2;
#                               paper-network infer at batch 2 peaks near 3.5 GB, the small
#                               network's under 3 GB)
#   PROMPT_DAS_GPU=1            one GPU per executor and task (build with: mvn -B -Pcluster -Dcuda
#                               -DskipTests package; CUDA 11.6 kernels: compute capability <= 8.6)
executors=${PROMPT_DAS_EXECUTORS:-4}
cores=${PROMPT_DAS_EXECUTOR_CORES:-8}
export PROMPT_DAS_OVERHEAD=${PROMPT_DAS_OVERHEAD:-24g}
common=(--executor-cores "$cores" --executor-memory "${PROMPT_DAS_EXECUTOR_MEMORY:-8g}"
  --driver-memory "${PROMPT_DAS_DRIVER_MEMORY:-8g}"
  --conf "spark.task.cpus=$cores"
  --conf "spark.executorEnv.OMP_NUM_THREADS=$cores"
  --conf spark.driver.maxResultSize=4g
  --conf spark.sql.shuffle.partitions=64)
# the same malloc settings for the executors as bin/prompt-das gives local runs (native.env);
# sourcing also exports them for a client-mode driver
source "$(dirname "${BASH_SOURCE[0]}")/native-env.sh"
for pair in "${native_env[@]}"; do
  common+=(--conf "spark.executorEnv.$pair")
done
if [ "${PROMPT_DAS_GPU:-0}" = 1 ]; then
  common+=(--conf spark.executor.resource.gpu.amount=1 --conf spark.task.resource.gpu.amount=1
    --conf "spark.executor.resource.gpu.discoveryScript=${PROMPT_DAS_GPU_DISCOVERY:-/opt/spark/examples/src/main/scripts/getGpusResources.sh}")
fi
