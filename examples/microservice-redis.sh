#!/usr/bin/env bash
# Example 2: a microservice with Redis — install the Redis service pack (it pulls in the Dockerfile pack),
# generate the service, start Redis in a cleanroom environment, run a smoke scenario against it
# (steps with dependencies and expectations), and validate the sources.
set -euo pipefail
NEEDS="redis-server curl"
source "$(dirname "$0")/lib.sh"
cd "$WORK"
cleanup() {
  (cd "$WORK/order-service" 2>/dev/null && cleanroom environment delete --name microservice-test --force >/dev/null 2>&1) || true
  cd / && rm -rf "$WORK"
}
trap cleanup EXIT

stage "1. Install marketplace packs"
ggen market add io.ggen.redis-service
ggen market list --installed

stage "2. Generate the microservice"
PORT=$(free_port)
ggen template generate io.ggen.redis-service --output-dir order-service --vars name=order-service --vars "port=$PORT"
ggen template generate io.ggen.dockerfile --output-dir order-service --vars entry=server.mjs --vars "port=$PORT"
cd order-service

stage "3. Environment with Redis"
cleanroom environment create --name microservice-test --backend local
REDIS_PORT=$(cleanroom container start redis --env-name microservice-test --backend local --json |
  json_field port)

stage "4. Smoke scenario"
cat >smoke.yaml <<YAML
name: order-service smoke
timeout_ms: 30000
steps:
  - name: syntax
    cmd: [node, --check, server.mjs]
  - name: store-and-read
    depends: [syntax]
    run: |
      PORT=$PORT REDIS_URL=redis://127.0.0.1:$REDIS_PORT node server.mjs & pid=\$!
      trap 'kill \$pid' EXIT
      for i in \$(seq 1 50); do curl -fs http://127.0.0.1:$PORT/health >/dev/null && break; sleep 0.1; done
      curl -fsS -X PUT --data 42 http://127.0.0.1:$PORT/kv/order-1 >/dev/null
      curl -fsS http://127.0.0.1:$PORT/kv/order-1
    expect:
      stdout_contains: '"value":"42"'
  - name: dockerfile
    depends: [syntax]
    run: grep -q "EXPOSE $PORT" Dockerfile
YAML
cleanroom exec --scenario smoke.yaml --env microservice-test --backend local

stage "5. Validate"
ggen lifecycle init --name order-service >/dev/null
ggen lifecycle validate --check security
echo "Microservice checked in $(elapsed)s"
