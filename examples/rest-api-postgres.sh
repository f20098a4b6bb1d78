#!/usr/bin/env bash
# Example 1: a REST API with PostgreSQL — install the domain-service pack, generate the API from the
# shop ontology, test it in a cleanroom environment against a real PostgreSQL, validate, deploy, verify.
set -euo pipefail
NEEDS="postgresql-15 curl"
source "$(dirname "$0")/lib.sh"
cd "$WORK"
cleanup() {
  (cd "$WORK/user-api" 2>/dev/null && ggen lifecycle stop --env production >/dev/null 2>&1) || true
  (cd "$WORK/user-api" 2>/dev/null && cleanroom environment delete --name api-test --force >/dev/null 2>&1) || true
  cd / && rm -rf "$WORK"
}
trap cleanup EXIT

stage "1. Search and install"
ggen market search "domain service" --limit 3
ggen market add io.ggen.domain-service io.ggen.postgres-schema

stage "2. Generate the API"
PORT=$(free_port)
ggen template generate io.ggen.domain-service --output-dir user-api --vars name=user-api --vars "port=$PORT"
cd user-api
npm install --prefer-offline --no-audit --no-fund --loglevel=error

stage "3. Test environment with PostgreSQL"
cleanroom environment create --name api-test --backend local
# The JSON never carries the password: we chose it, so we build the URL for the deploy step ourselves.
PGPASS=$(node -e 'console.log(require("crypto").randomBytes(12).toString("hex"))')
PGPORT=$(cleanroom container start postgres --env-name api-test --db apidb --user admin --password "$PGPASS" --backend local --json |
  json_field port)
export DATABASE_URL="postgresql://admin:$PGPASS@127.0.0.1:$PGPORT/apidb"

stage "4. Integration tests"
cleanroom test run --env api-test --backend local

stage "5. Validate production readiness"
ggen lifecycle validate --env production --check tests --check security

stage "6. Deploy and verify"
ggen lifecycle run bundle
ggen lifecycle run deploy --env production --yes || { cat .ggen/logs/deploy.log; exit 1; }
curl -fsS "http://127.0.0.1:$PORT/health"
echo
echo "Deployment complete in $(elapsed)s"
