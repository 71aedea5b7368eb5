#!/usr/bin/env bash
# Submit any prompt-das command to a cluster with the JVM flags it needs.
#
#   mvn -B -Pcluster -DskipTests package          # once: builds the application jar
#   deploy/spark-submit.sh --master yarn --deploy-mode cluster --executor-memory 8g \
#       -- tile --images hdfs:///em/vol1/img --labels hdfs:///em/vol1/lab --out hdfs:///em/crops/vol1
#
# Everything before "--" goes to spark-submit, everything after it to prompt-das. The JVM flags
# (Java 17 --add-opens, JavaCPP off-heap limits) come from deploy/java.args, the one list that
# Surefire and bin/prompt-das use too; off-heap memory needs executor memory overhead on YARN and
# Kubernetes (set PROMPT_DAS_OVERHEAD, default 4g). Extra driver/executor flags: PROMPT_DAS_JAVA_OPTS.
# Environment: SPARK_HOME (spark-submit from Spark 3.5.x for Scala 2.12), PROMPT_DAS_JAR (a path, or a
# URI such as local:///opt/prompt-das/prompt-das.jar inside a container image).
# Per cluster manager, with sizing and GPU settings: deploy/standalone.sh, deploy/yarn.sh, deploy/k8s.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jar=${PROMPT_DAS_JAR:-$(ls "$root"/pipeline-jobs/target/pipeline-jobs-*-cluster.jar 2>/dev/null | head -n 1)}
if [ -z "$jar" ] || { [[ "$jar" != *://* ]] && [ ! -f "$jar" ]; }; then
  echo "deploy/spark-submit.sh: no application jar; run: mvn -B -Pcluster -DskipTests package" >&2
  exit 2
fi
submit=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do submit+=("$1"); shift; done
[ $# -gt 0 ] && shift
if [ $# -eq 0 ]; then
  echo "usage: deploy/spark-submit.sh [spark-submit options] -- <prompt-das command> [args]" >&2
  exit 2
fi
opts="$(grep -v '^[[:space:]]*$' "$root/deploy/java.args" | tr '\n' ' ')${PROMPT_DAS_JAVA_OPTS:-}"
exec "${SPARK_HOME:+$SPARK_HOME/bin/}spark-submit" \
  --class org.promptdas.jobs.PromptDas \
  --conf "spark.driver.extraJavaOptions=$opts" \
  --conf "spark.executor.extraJavaOptions=$opts" \
  --conf "spark.executor.memoryOverhead=${PROMPT_DAS_OVERHEAD:-4g}" \
  --conf "spark.kubernetes.memoryOverheadFactor=0.4" \
  "${submit[@]}" "$jar" "$@"
