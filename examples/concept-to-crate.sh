#!/usr/bin/env bash
# Seed 001, "concept to deployed crate": choose the Rust template, generate my_service, test it in a
# cleanroom (`cleanroom ultra-fast-test --manifest target/generated/Cargo.toml`, then the seed's own
# test_pipeline.yaml and validate_deploy.yaml, verbatim, which the pack generates), and finally the
# single command — `ggen ultra-fast-deploy` — whose report must say READY: every quality gate passed
# and the crate was published to the project's local registry, where a crate depending on it compiles.
set -euo pipefail
NEEDS="cargo"
source "$(dirname "$0")/lib.sh"
cd "$WORK"
trap 'cd / && rm -rf "$WORK"' EXIT
export CRATE_NAME="my_service"
export CRATE_VERSION="0.1.0"

# Seed 001's own budgets hold, and a step over its budget stops the example, named: generation < 10 s,
# cleanroom setup < 10 s, tests < 20 s (test_pipeline.yaml's timeouts), validation < 10 s
# (validate_deploy.yaml's). They are written for an idle 2-core machine; on a machine busier than its
# cores (1-minute load average above the core count) they cannot hold, and the example says so with the
# figures and goes on: ultra-fast-deploy below runs every gate anyway.
now_ms() { date +%s%3N; }
over_budget() { # what, measured ms, budget ms
  local load cores
  read -r load _ </proc/loadavg
  cores=$(nproc)
  if awk -v l="$load" -v c="$cores" 'BEGIN{exit !(l > c)}'; then
    echo "[WARN] $1 took $2 ms, over the seed's budget of $3 ms: this machine is loaded (load $load on $cores cores), so the seed's budgets, written for an idle machine, cannot hold here"
  else
    echo "$EXAMPLE: $1 took $2 ms, over the seed's budget of $3 ms (load $load on $cores cores)" >&2
    exit 1
  fi
}
budget() { # what, measured ms, budget ms
  if [ "$2" -ge "$3" ]; then over_budget "$@"; else echo "$1: $2 ms (budget $3 ms)"; fi
}

# A scenario's verdict: a step that failed stops the example; a step over the seed's budget (its
# timeout_ms, or the scenario's) is over budget (above). A step it kept from running is listed as skipped.
scenario() {
  local file=$1 out slow="$WORK/over-budget" what ms budget
  out=$(cleanroom exec --backend local --scenario "$file" --json) || true
  [ -n "$out" ] || { echo "$EXAMPLE: cleanroom exec --scenario $file printed nothing" >&2; exit 1; }
  # One line per step; the steps over budget ("name ms budget-ms") into $slow; exit 1: a step failed.
  printf '%s' "$out" | node -e 'let s="";process.stdin.on("data",(d)=>{s+=d}).on("end",()=>{
    const run=JSON.parse(s);let bad=0;const slow=[];
    for(const t of run.tests){const ms=Math.round(t.durationMs);console.log(`${t.status.padEnd(9)} ${t.name} (${ms} ms)`);
      if(t.status==="timed-out")slow.push(`${t.name} ${ms} ${/after (\d+) ms/.exec(t.failureMessage??"")?.[1]??0}`);
      else if(t.status!=="passed"&&t.status!=="skipped")bad++}
    require("fs").writeFileSync(process.argv[1],slow.map((l)=>`${l}\n`).join(""));process.exit(bad?1:0)})' "$slow" ||
    { echo "$EXAMPLE: a step of $file failed" >&2; exit 1; }
  while read -r what ms budget; do
    [ -z "$what" ] || over_budget "$file step $what" "$ms" "$budget"
  done <"$slow"
}

stage "1. Concept: find the template and add it"
ggen market search "rust cli"
ggen market add io.ggen.rust-cli

stage "2. Generate the crate"
t0=$(now_ms)
ggen template generate io.ggen.rust-cli --output-dir target/generated \
  --vars "name=$CRATE_NAME" --vars "version=$CRATE_VERSION"
budget "generation" $(($(now_ms) - t0)) 10000

stage "3-4. Test it in a cleanroom"
cleanroom ultra-fast-test --backend local --manifest target/generated/Cargo.toml --timeout 50s --report cleanroom-run.json
budget "cleanroom setup" "$(node -e 'console.log(Math.round(require(process.argv[1]).timings.setupMs))' "$PWD/cleanroom-run.json")" 10000

stage "4-5. The seed's scenarios, verbatim"
(cd target/generated && scenario test_pipeline.yaml && scenario validate_deploy.yaml)

stage "6. The single command: concept to deployed crate"
ggen ultra-fast-deploy --template io.ggen.rust-cli --name "$CRATE_NAME" --version "$CRATE_VERSION" \
  --timeout 120s --report report.json --quiet --json >/dev/null || true
status=$(json_field deploymentStatus <report.json)
echo "deployment_status: $status"
echo "coverage: $(node -e 'const m=require(process.argv[1]).metrics;console.log(m.coverage?.status==="measured"?`${m.coverage.percent} %`:`unavailable (${m.coverage?.reason})`)' "$PWD/report.json")"
if [ "$status" = "READY" ]; then
  echo "✅ Crate is production-ready: $(node -e 'const d=require(process.argv[1]).deployment;console.log(`${d.releaseId} in ${d.registry}`)' "$PWD/report.json")"
else
  echo "❌ Crate not ready for deployment: $(json_field recommendation <report.json)" >&2
  exit 1
fi
echo "Concept to deployed crate in $(elapsed)s"
