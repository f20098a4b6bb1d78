#!/usr/bin/env bash
# The complete example: every phase by its own command, timed, with error handling — marketplace,
# generation, testing (cleanroom on the generation manifest), validation, deployment — and the total
# checked against the 60 s target. `ggen ultra-fast-deploy` does all of this in one command.
set -euo pipefail
NEEDS="postgresql-15 curl"
source "$(dirname "$0")/lib.sh"
PROJECT_NAME="my-service"
SERVICE_TYPE="io.ggen.domain-service"
log_info() { echo "[INFO] $1"; }
log_error() { echo "[ERROR] $1" >&2; }
cleanup() {
  (cd "$WORK/$PROJECT_NAME" 2>/dev/null && ggen lifecycle stop --env production >/dev/null 2>&1) || true
  cd / && rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
phase() {
  local name=$1
  shift
  local t0=$(date +%s%N)
  "$@" || { log_error "$name failed"; exit 1; }
  log_info "$name completed in $((($(date +%s%N) - t0) / 1000000)) ms"
}

PORT=$(free_port)
phase "Marketplace" ggen market add "$SERVICE_TYPE"
phase "Generation" ggen template generate "$SERVICE_TYPE" --output-dir "$PROJECT_NAME" --vars "name=$PROJECT_NAME" --vars "port=$PORT"
cd "$PROJECT_NAME"
phase "Testing" cleanroom ultra-fast-test --manifest .ggen/manifest.json --backend local --report .ggen/cleanroom-run.json
phase "Validation" ggen lifecycle validate --env production --check tests --check security
phase "Deployment" sh -c 'node '"$ROOT"'/apps/ggen/dist/bin.js lifecycle run bundle && node '"$ROOT"'/apps/ggen/dist/bin.js lifecycle run deploy --env production --yes'
curl -fsS "http://127.0.0.1:$PORT/health"
echo
total=$(elapsed)
log_info "Ultra-fast deployment complete: ${total}s"
if [ "$total" -gt 60 ]; then
  echo "[WARN] Deployment took longer than the 60s target" >&2
  exit 1
fi
