# Reads native.env next to this file (sourced by bin/prompt-das and cluster-common.sh, not run):
# exports each NAME=VALUE not already set in the environment (an empty value counts as unset) and
# lists the file's pairs in the array native_env, for the executors' spark.executorEnv.
native_env=()
while IFS='=' read -r name value; do
  case "$name" in ''|\#*) continue ;; esac
  native_env+=("$name=$value")
  [ -n "${!name:-}" ] || export "$name=$value"
done < "$(dirname "${BASH_SOURCE[0]}")/native.env"
