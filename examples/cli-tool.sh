#!/usr/bin/env bash
# Example 3: a CLI tool — install the Rust CLI pack (std only: it builds offline) and the Dockerfile
# pack, generate the crate, run its tests in a cleanroom environment (cargo test results per test),
# build the release binary and run it. With Docker answering, the Dockerfile is generated too.
set -euo pipefail
NEEDS="cargo"
source "$(dirname "$0")/lib.sh"
cd "$WORK"
trap 'cd / && rm -rf "$WORK"' EXIT

stage "1. Install templates"
ggen market add io.ggen.rust-cli

stage "2. Generate the CLI"
ggen template generate io.ggen.rust-cli --output-dir mytool --vars name=mytool --vars 'description=My awesome CLI tool'
cd mytool

stage "3. Test in a cleanroom environment"
cleanroom test run --backend local --file Cargo.toml

stage "4. Build and run the release binary"
cargo build --release --offline --quiet
./target/release/mytool --version
echo "CLI tool built in $(elapsed)s"
