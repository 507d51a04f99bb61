#!/usr/bin/env bash
# Runs one benchmark by name; each ends with one line "RESULT key=value ...".
#   ./bench.sh registry   register latency p50/p99, registrations/s (10,000 names), whereis ns/op (JMH)
#   ./bench.sh calls      proxy call latency p50/p99 and calls/s (64 in flight) vs raw amqp-client request/reply; local call ns (JMH)
#   ./bench.sh strategies claim vs leader with 3, 5 and 9 nodes: register p50/p99 from a non-leader, messages published and
#                         delivered per registration (heartbeats excluded), whereis miss / cached hit / unregistered name p50/p99
set -euo pipefail
cd "$(dirname "$0")"
name=${1:-}
case "$name" in
  registry) main=io.globalregistry.bench.RegistryBenchmark ;;
  calls) main=io.globalregistry.bench.CallBenchmark ;;
  strategies) main=io.globalregistry.bench.StrategyBenchmark ;;
  *) echo "usage: ./bench.sh registry|calls|strategies" >&2; exit 2 ;;
esac
mvn -q -B -DskipTests -pl registry-benchmarks -am install >&2
cp="registry-benchmarks/target/classes:$(cat registry-benchmarks/target/classpath.txt)"
exec java -Xms1g -Xmx2g -cp "$cp" "$main" "${@:2}"
