#!/usr/bin/env bash
# Runs one benchmark by name; each ends with one line "RESULT key=value ...".
#   ./bench.sh registry   register latency p50/p99, registrations/s (10,000 names), whereis ns/op (JMH)
#   ./bench.sh calls      proxy call latency p50/p99 and calls/s (64 in flight) vs raw amqp-client request/reply; local call ns (JMH)
#   ./bench.sh strategies claim vs leader with 3, 5 and 9 nodes: register p50/p99 from a non-leader, messages published and
#                         delivered per registration (heartbeats excluded), whereis miss / cached hit / unregistered name p50/p99
#   ./bench.sh scale [N ...]  3, 10, 25 and 50 nodes (or N ...), claim and leader, default settings (liveness lease on
#                         RabbitMQ): idle broker CPU (from /proc) and messages published/delivered per second, register
#                         p50/p99 from a non-leader, crash failover ms; a few minutes
set -euo pipefail
cd "$(dirname "$0")"
name=${1:-}
case "$name" in
  registry) main=io.globalregistry.bench.RegistryBenchmark ;;
  calls) main=io.globalregistry.bench.CallBenchmark ;;
  strategies) main=io.globalregistry.bench.StrategyBenchmark ;;
  scale) main=io.globalregistry.bench.ScaleBenchmark ;;
  *) echo "usage: ./bench.sh registry|calls|strategies|scale [N ...]" >&2; exit 2 ;;
esac
mvn -q -B -DskipTests -pl registry-benchmarks -am install >&2
cp="registry-benchmarks/target/classes:$(cat registry-benchmarks/target/classpath.txt)"
exec java -Xms1g -Xmx2g -cp "$cp" "$main" "${@:2}"
