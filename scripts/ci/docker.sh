#!/usr/bin/env bash
# Sourced by .ci/run (and by hand: `source scripts/ci/docker.sh && docker_start`).
# docker_start starts a private dockerd — no bridge, no iptables, so containers use network mode `none`
# (isolated) or `host`/`container:<id>` (services on loopback) — then builds the local service images
# (fixtures/images/build.sh, skipped per image when it exists). docker_stop removes what cleanroom left
# (label io.ggen.cleanroom) and stops dockerd by the pid recorded at start. An engine that already
# answers on DOCKER_HOST is used as is and never stopped.
GGEN_DOCKER_ROOT="${GGEN_DOCKER_ROOT:-/tmp/ggen-docker}"
export DOCKER_HOST="${DOCKER_HOST:-unix://${GGEN_DOCKER_ROOT}/docker.sock}"
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
export TESTCONTAINERS_RYUK_DISABLED=true
# No registry is reachable: never let dockerd try a pull (it would send a DNS query off the machine).
export GGEN_CLEANROOM_NO_PULL=1

docker_start() {
  local root="$GGEN_DOCKER_ROOT"
  mkdir -p "$root"
  if ! docker info >/dev/null 2>&1; then
    if ! command -v dockerd >/dev/null; then
      echo "ci: dockerd missing (scripts/ci/system-deps.sh installs docker.io)" >&2
      return 1
    fi
    dockerd --bridge=none --iptables=false --ip6tables=false \
      --data-root "$root/data" --exec-root "$root/exec" \
      --pidfile "$root/dockerd.pid" -H "$DOCKER_HOST" >"$root/dockerd.log" 2>&1 &
    echo $! >"$root/started.pid"
    local i
    for i in $(seq 1 120); do
      docker info >/dev/null 2>&1 && break
      kill -0 "$(cat "$root/started.pid")" 2>/dev/null || break
      sleep 0.25
    done
  fi
  if ! docker info >/dev/null 2>&1; then
    echo "ci: dockerd did not answer on $DOCKER_HOST; last log lines:" >&2
    tail -n 20 "$root/dockerd.log" >&2 2>/dev/null || true
    docker_stop
    return 1
  fi
  echo "ci: Docker answers on $DOCKER_HOST ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null))"
  if [ -x fixtures/images/build.sh ]; then bash fixtures/images/build.sh; fi
}

docker_stop() {
  local f="$GGEN_DOCKER_ROOT/started.pid"
  if [ -f "$f" ]; then
    local pid ids
    pid=$(cat "$f")
    ids=$(docker ps -aq --filter label=io.ggen.cleanroom 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086
      docker rm -f -v $ids >/dev/null 2>&1 || true
    fi
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  fi
}
