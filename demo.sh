#!/usr/bin/env bash
# The demo: three registry nodes on the local RabbitMQ (or an embedded broker when none answers)
# race for a name, find and message its owner, then fail over when the owner's connection dies.
set -euo pipefail
cd "$(dirname "$0")"
mvn -q -B -DskipTests -pl registry-sample-app -am install >&2
cp="registry-sample-app/target/classes:$(cat registry-sample-app/target/classpath.txt)"
exec java -cp "$cp" io.globalregistry.sample.CoreDemo
