#!/usr/bin/env bash
# Sourced by .ci/run: docker_start starts a private dockerd (no bridge, no iptables: containers use
# network mode none or host) and builds the local service images; docker_stop stops it by its pid.
GGEN_DOCKER_ROOT="${GGEN_DOCKER_ROOT:-/tmp/ggen-docker}"
export DOCKER_HOST="unix://${GGEN_DOCKER_ROOT}/docker.sock"
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
export TESTCONTAINERS_RYUK_DISABLED=true

docker_start() {
  mkdir -p "$GGEN_DOCKER_ROOT"
  if ! docker info >/dev/null 2>&1; then
    dockerd --bridge=none --iptables=false --ip6tables=false \
      --data-root "$GGEN_DOCKER_ROOT/data" --exec-root "$GGEN_DOCKER_ROOT/exec" \
      --pidfile "$GGEN_DOCKER_ROOT/dockerd.pid" -H "$DOCKER_HOST" >"$GGEN_DOCKER_ROOT/dockerd.log" 2>&1 &
    echo $! >"$GGEN_DOCKER_ROOT/started.pid"
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  docker info >/dev/null 2>&1 || return 1
  if [ -x fixtures/images/build.sh ]; then bash fixtures/images/build.sh; fi
}

docker_stop() {
  local f="$GGEN_DOCKER_ROOT/started.pid"
  if [ -f "$f" ]; then
    local pid
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  fi
}
