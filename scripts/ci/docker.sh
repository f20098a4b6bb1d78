#!/usr/bin/env bash
# Sourced by scripts/check.mjs (`npm test`), and by hand: `source scripts/ci/docker.sh && docker_start`.
# An engine that already answers (on DOCKER_HOST, or the system's /var/run/docker.sock when DOCKER_HOST is
# unset) is used as is and never stopped. Otherwise docker_start starts a private dockerd under
# GGEN_DOCKER_ROOT — no bridge, no iptables, so containers use network mode `none` (isolated) or
# `host`/`container:<id>` (services on loopback) — and records its pid in GGEN_DOCKER_STARTED. Either way
# it then builds the local service images (fixtures/images/build.sh, each skipped when current; never a
# pull). docker_stop removes what cleanroom left (label io.ggen.cleanroom) and stops, by that recorded pid,
# only the dockerd docker_start started. docker_env prints the variables the tests need, one KEY=VALUE a line.
GGEN_DOCKER_ROOT="${GGEN_DOCKER_ROOT:-/tmp/ggen-docker}"
GGEN_DOCKER_STARTED="${GGEN_DOCKER_STARTED:-$GGEN_DOCKER_ROOT/started.pid}"
if [ -z "${DOCKER_HOST:-}" ] && ! { [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; }; then
  export DOCKER_HOST="unix://${GGEN_DOCKER_ROOT}/docker.sock"
fi
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
export TESTCONTAINERS_RYUK_DISABLED=true
# No registry is reachable: never let dockerd try a pull (it would send a DNS query off the machine).
export GGEN_CLEANROOM_NO_PULL=1

docker_start() {
  local root="$GGEN_DOCKER_ROOT"
  if ! docker info >/dev/null 2>&1; then
    if ! command -v dockerd >/dev/null; then
      echo "docker: no engine answers on ${DOCKER_HOST:-/var/run/docker.sock} and dockerd is missing (npm run quickstart installs docker.io)" >&2
      return 1
    fi
    mkdir -p "$root" "$(dirname "$GGEN_DOCKER_STARTED")"
    dockerd --bridge=none --iptables=false --ip6tables=false \
      --data-root "$root/data" --exec-root "$root/exec" \
      --pidfile "$root/dockerd.pid" -H "$DOCKER_HOST" >"$root/dockerd.log" 2>&1 </dev/null &
    echo $! >"$GGEN_DOCKER_STARTED"
    local i
    for i in $(seq 1 120); do
      docker info >/dev/null 2>&1 && break
      kill -0 "$(cat "$GGEN_DOCKER_STARTED")" 2>/dev/null || break
      sleep 0.25
    done
    if ! docker info >/dev/null 2>&1; then
      echo "docker: the dockerd started here did not answer on $DOCKER_HOST; last lines of $root/dockerd.log:" >&2
      tail -n 20 "$root/dockerd.log" >&2 2>/dev/null || true
      docker_stop
      return 1
    fi
    echo "docker: started a private dockerd on $DOCKER_HOST (pid $(cat "$GGEN_DOCKER_STARTED"); stopped when done)" >&2
  else
    echo "docker: using the engine on ${DOCKER_HOST:-/var/run/docker.sock} ($(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null))" >&2
  fi
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  bash "$here/fixtures/images/build.sh" >&2
}

docker_env() {
  if [ -n "${DOCKER_HOST:-}" ]; then echo "DOCKER_HOST=$DOCKER_HOST"; fi
  echo "TESTCONTAINERS_HOST_OVERRIDE=$TESTCONTAINERS_HOST_OVERRIDE"
  echo "TESTCONTAINERS_RYUK_DISABLED=$TESTCONTAINERS_RYUK_DISABLED"
  echo "GGEN_CLEANROOM_NO_PULL=$GGEN_CLEANROOM_NO_PULL"
}

docker_stop() {
  local f="$GGEN_DOCKER_STARTED"
  if [ -f "$f" ]; then
    local pid ids
    pid=$(cat "$f")
    rm -f "$f"
    # A pid file left by a run that died may name a pid since reused: stop it only if it is a dockerd.
    grep -qx dockerd "/proc/$pid/comm" 2>/dev/null || return 0
    ids=$(docker ps -aq --filter label=io.ggen.cleanroom 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086
      docker rm -f -v $ids >/dev/null 2>&1 || true
    fi
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}
