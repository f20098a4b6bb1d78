# Shared by the example scripts: the built programs, a scratch project dir, a free port, stage lines.
# Each example runs in its own temp dir and removes it (and anything it started) on exit.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ggen() { node "$ROOT/apps/ggen/dist/bin.js" "$@"; }
cleanroom() { node "$ROOT/apps/cleanroom/dist/bin.js" "$@"; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ggen-example-XXXXXX")"
export GGEN_HOME="${GGEN_HOME:-$WORK/.ggen-home}"
[ -n "$GGEN_HOME" ] || export GGEN_HOME="$WORK/.ggen-home"
export GGEN_CLEANROOM_NO_PULL=1
START_TIME=$(date +%s)
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
stage() { echo "==> $*"; }
elapsed() { echo "$(($(date +%s) - START_TIME))"; }
