# Shared by the example scripts: prerequisites, the built programs, a scratch project dir, a free port,
# stage lines. An example sets NEEDS (Debian package names from scripts/system-packages.txt) before
# sourcing this; a missing one, or a missing build, stops it here with one line and exit 1. Each example
# runs in its own temp dir and removes it (and anything it started) on exit.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXAMPLE="$(basename "$0")"
if ! command -v node >/dev/null; then
  echo "$EXAMPLE: node is missing: Node 20 or later is needed" >&2
  exit 1
fi
if [ ! -f "$ROOT/apps/ggen/dist/bin.js" ] || [ ! -f "$ROOT/apps/cleanroom/dist/bin.js" ]; then
  echo "$EXAMPLE: the programs are not built: run npm run quickstart first" >&2
  exit 1
fi
# shellcheck disable=SC2086
[ -z "${NEEDS:-}" ] || node "$ROOT/scripts/system-packages.mjs" need "$EXAMPLE" $NEEDS || exit 1
ggen() { node "$ROOT/apps/ggen/dist/bin.js" "$@"; }
cleanroom() { node "$ROOT/apps/cleanroom/dist/bin.js" "$@"; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ggen-example-XXXXXX")"
export GGEN_HOME="${GGEN_HOME:-$WORK/.ggen-home}"
[ -n "$GGEN_HOME" ] || export GGEN_HOME="$WORK/.ggen-home"
export GGEN_CLEANROOM_NO_PULL=1
START_TIME=$(date +%s)
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# One field of the JSON object on stdin. Silent on empty input (the command before it failed and said
# why); one line when the input is not that JSON.
json_field() {
  node -e 'let s="";process.stdin.on("data",(d)=>{s+=d}).on("end",()=>{
    if(!s.trim())process.exit(1);
    let v;try{v=JSON.parse(s)[process.argv[1]]}catch{}
    if(v===undefined){console.error(`'"$EXAMPLE"': expected JSON with "${process.argv[1]}", got: ${s.trim().split("\n")[0].slice(0,120)}`);process.exit(1)}
    console.log(v)})' "$1"
}
stage() { echo "==> $*"; }
elapsed() { echo "$(($(date +%s) - START_TIME))"; }
