#!/usr/bin/env bash
# The demo: three sample-app nodes (ports 8081-8083, node-1..3) on the local RabbitMQ (or an embedded Qpid
# broker when none answers) share one @GlobalSingleton SequenceService; the owner is killed with kill -9 and a
# survivor serves /demo/next again after the failover, whose duration is printed. Everything started is stopped
# on exit (Ctrl-C included). The apps' logs go to a temporary directory.
#
#   ./demo.sh          the Spring Boot cluster demo (above)
#   ./demo.sh leader   the same under global-registry.strategy=leader: the singleton runs on the elected leader,
#                      and killing it shows the new leader taking the singleton over
#   ./demo.sh core     the core API demo: three registry nodes in one JVM race for a name, fail over
#
# Environment: DEMO_BASE_PORT (default 8081; the nodes use it and the next two ports); SPRING_RABBITMQ_HOST/_PORT
# (default localhost:5672; credentials and virtual host as the tests read them, default guest/guest and /).
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-cluster}"
strategy=claim
case "$mode" in
  cluster|core) ;;
  leader) strategy=leader ;;
  *) echo "usage: $0 [leader|core]" >&2; exit 2 ;;
esac

echo "Building the sample app (mvn -q -B -DskipTests -pl registry-sample-app -am install) ..."
mvn -q -B -DskipTests -pl registry-sample-app -am install >&2
cp="registry-sample-app/target/classes:$(cat registry-sample-app/target/classpath.txt)"
jar="$(ls registry-sample-app/target/registry-sample-app-*.jar | grep -v '\.original$' | head -1)" # executable
if [ "$mode" = core ]; then
  exec java -cp "$cp" io.globalregistry.sample.CoreDemo
fi

java_opts=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k)
base_port="${DEMO_BASE_PORT:-8081}"
logs="$(mktemp -d "${TMPDIR:-/tmp}/globalregistry-demo.XXXXXX")"
cluster="registry-demo-$$"
pids=()
declare -A node_pid node_port

cleanup() {
  trap - EXIT INT TERM
  if [ "${#pids[@]}" -gt 0 ]; then
    echo "Stopping pids ${pids[*]} ..."
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
      alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ "$alive" = 0 ] && break
      sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
  fi
  # the demo cluster's lease streams are durable: delete them on a local RabbitMQ (they would pile up run after run)
  if [ "${on_rabbit:-0}" = 1 ] && command -v rabbitmqctl >/dev/null 2>&1; then
    for log in 0 1 2; do
      timeout 10 rabbitmqctl -q delete_queue "global-registry.$cluster.lease.$log" >/dev/null 2>&1 || true
    done
  fi
  echo "Logs kept in $logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

echo "Logs: $logs"

# The broker: the local RabbitMQ when it answers, else an embedded Qpid Broker-J in a JVM of its own.
rabbit_host="${SPRING_RABBITMQ_HOST:-localhost}"
rabbit_port="${SPRING_RABBITMQ_PORT:-5672}"
broker_args=(--spring.rabbitmq.host="$rabbit_host" --spring.rabbitmq.port="$rabbit_port")
if port_open "$rabbit_host" "$rabbit_port"; then
  echo "Broker: RabbitMQ at $rabbit_host:$rabbit_port"
  [ "$rabbit_host" = localhost ] || [ "$rabbit_host" = 127.0.0.1 ] && on_rabbit=1
else
  echo "Broker: no RabbitMQ at $rabbit_host:$rabbit_port, starting an embedded Qpid Broker-J ..."
  java "${java_opts[@]}" -cp "$cp" io.globalregistry.sample.DemoBroker >"$logs/broker.log" 2>&1 &
  pids+=("$!")
  line=""
  for _ in $(seq 1 600); do
    line="$(grep -m1 '^BROKER ' "$logs/broker.log" || true)"
    [ -n "$line" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || { echo "The broker did not start, see $logs/broker.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$line" ] || { echo "The broker did not start in 60 s, see $logs/broker.log" >&2; exit 1; }
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  broker_args=(--spring.rabbitmq.host="$(field host)" --spring.rabbitmq.port="$(field port)"
    --spring.rabbitmq.username="$(field username)" --spring.rabbitmq.password="$(field password)"
    --spring.rabbitmq.virtual-host="$(field virtualHost)")
  echo "Broker: embedded $(field kind) at $(field host):$(field port) (pid ${pids[0]})"
fi

for i in 1 2 3; do
  port=$((base_port + i - 1))
  if port_open localhost "$port"; then
    echo "Port $port is in use: stop what listens there or set DEMO_BASE_PORT" >&2; exit 1
  fi
done

started=$(now_ms)
for i in 1 2 3; do
  name="node-$i"
  port=$((base_port + i - 1))
  java "${java_opts[@]}" -jar "$jar" \
    --server.port="$port" --global-registry.node-name="$name" --global-registry.cluster="$cluster" \
    --global-registry.strategy="$strategy" --spring.main.banner-mode=off "${broker_args[@]}" >"$logs/$name.log" 2>&1 &
  pids+=("$!")
  node_pid[$name]=$!
  node_port[$name]=$port
  echo "Started $name: pid $!, http://localhost:$port, log $logs/$name.log"
done

echo "Waiting for /actuator/health on every node ..."
for name in node-1 node-2 node-3; do
  until curl -sf --max-time 2 "localhost:${node_port[$name]}/actuator/health" 2>/dev/null | grep -q '"status":"UP"'; do
    kill -0 "${node_pid[$name]}" 2>/dev/null || { echo "$name died, see $logs/$name.log" >&2; exit 1; }
    [ $(( $(now_ms) - started )) -lt 90000 ] || { echo "$name not UP after 90 s, see $logs/$name.log" >&2; exit 1; }
    sleep 0.2
  done
done
echo "All three UP after $(( $(now_ms) - started )) ms"

served_by() { python3 -c 'import json,sys; print(json.load(sys.stdin)["servedBy"])' 2>/dev/null; }

echo
echo "GET /demo/next on every node (one SequenceService in the cluster, on its owner):"
owner=""
for name in node-1 node-2 node-3; do
  body="$(curl -sf --max-time 10 "localhost:${node_port[$name]}/demo/next")"
  echo "  $name (:${node_port[$name]}) -> $body"
  owner="$(served_by <<<"$body")"
done

echo
echo "GET /actuator/globalregistry on node-1 (registrations):"
curl -sf --max-time 5 "localhost:${node_port[node-1]}/actuator/globalregistry" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("  node %s, strategy %s, leader %s, members %s" % (d.get("node"), d.get("strategy"), d.get("leader"),
                                                      json.dumps(d.get("members"))))
for r in d.get("registrations") or []:
    print("  %-38s state=%-6s owner=%s fencingToken=%s since=%s" % (r["name"], r["state"], r["owner"], r["fencingToken"], r["since"]))'

echo
echo "GET /actuator/health on node-1 (the globalRegistry component):"
curl -sf --max-time 5 "localhost:${node_port[node-1]}/actuator/health" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("  status %s, globalRegistry %s" % (d["status"], json.dumps(d["components"]["globalRegistry"])))'

owner_name=""
for name in node-1 node-2 node-3; do
  [ "$owner" = "$name" ] && owner_name="$name"
done
[ -n "$owner_name" ] || { echo "Cannot map servedBy '$owner' to a node" >&2; exit 1; }
survivor=""
for name in node-1 node-2 node-3; do
  [ "$name" != "$owner_name" ] && { survivor="$name"; break; }
done

echo
echo "kill -9 ${node_pid[$owner_name]} (the owner, $owner_name); polling /demo/next on $survivor every 50 ms"
echo "  (a call waits up to global-registry.call-timeout for the new owner rather than failing) ..."
killed=$(now_ms)
kill -9 "${node_pid[$owner_name]}"
wait "${node_pid[$owner_name]}" 2>/dev/null || true   # reap it quietly (no "Killed" line from bash)
failed=0
new_owner=""
while [ $(( $(now_ms) - killed )) -lt 20000 ]; do
  body="$(curl -s --max-time 6 "localhost:${node_port[$survivor]}/demo/next" || true)"
  by="$(served_by <<<"$body" || true)"
  if [ -n "$by" ] && [ "$by" != "$owner" ]; then new_owner="$by"; break; fi
  failed=$((failed + 1))
  sleep 0.05
done
elapsed=$(( $(now_ms) - killed ))
if [ -z "$new_owner" ]; then
  echo "No survivor served /demo/next within 20 s (see $logs)" >&2; exit 1
fi
echo "  served again by $new_owner ${elapsed} ms after the kill ($failed failed or old-owner answers): $body"
if grep -q "crash detection on" "$logs/$survivor.log"; then
  echo "  (crash detection: the broker reported the owner's connection closed; its names moved global-registry.crash-grace, 150 ms, later)"
elif grep -q "crash detection off" "$logs/$survivor.log"; then
  echo "  (crash detection off: the broker has no event exchange, so the lease logs certified the owner dead, 1.75 s after"
  echo "   its last heartbeat; on RabbitMQ, 'rabbitmq-plugins enable rabbitmq_event_exchange' makes it about 0.25 s)"
fi
echo
echo "GET /demo/next on the survivors:"
for name in node-1 node-2 node-3; do
  [ "$name" = "$owner_name" ] && continue
  echo "  $name (:${node_port[$name]}) -> $(curl -sf --max-time 10 "localhost:${node_port[$name]}/demo/next")"
done
echo
echo "Demo done in $(( $(now_ms) - started )) ms after the nodes were started."
