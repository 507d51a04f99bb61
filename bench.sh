#!/usr/bin/env bash
# Runs one benchmark by name; each ends with one line "RESULT key=value ...".
#   ./bench.sh registry   register latency p50/p99, registrations/s (10,000 names), whereis ns/op (JMH)
set -euo pipefail
cd "$(dirname "$0")"
name=${1:-}
case "$name" in
  registry) main=io.globalregistry.bench.RegistryBenchmark ;;
  *) echo "usage: ./bench.sh registry" >&2; exit 2 ;;
esac
mvn -q -B -DskipTests -pl registry-benchmarks -am install >&2
cp="registry-benchmarks/target/classes:$(cat registry-benchmarks/target/classpath.txt)"
exec java -Xms1g -Xmx2g -cp "$cp" "$main" "${@:2}"
