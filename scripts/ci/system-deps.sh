#!/usr/bin/env bash
# Debian packages the tests use for real: Redis, Chromium (HTML report), Docker, debootstrap (local
# images), bubblewrap + iproute2 + util-linux (isolation: bwrap, ip netns, nsenter, setpriv, prlimit, flock),
# PostgreSQL (normally already on the machine). Installs only what is missing; apt-get update runs once,
# and only when something is missing.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v ip >/dev/null || need+=(iproute2)
{ command -v prlimit && command -v setpriv && command -v nsenter && command -v unshare && command -v flock; } >/dev/null || need+=(util-linux)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "ci: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
