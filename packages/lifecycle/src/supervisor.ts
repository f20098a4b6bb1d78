// The supervisor for the `process` deploy provider, run as `node -e SUPERVISOR_SOURCE`: it starts the
// service, writes pid files, restarts it if it dies (a few times, with backoff) and stops it on SIGTERM.
// Kept as source text so it runs the same from src/ (tests) and dist/ (bundled), with no path lookup;
// it writes its pid files with @ggen/support's atomic write, imported from the URL it is given (the
// caller resolves it, so the supervisor needs no module resolution of its own).

export const SUPERVISOR_SOURCE = String.raw`
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const [command, cwd, pidFile, servicePidFile, logFile, supportUrl] = process.argv.slice(1);
const maxRestarts = Number(process.env.GGEN_SUPERVISOR_RESTARTS || "3");
let child;
let stopping = false;
let restarts = 0;
const log = fs.openSync(logFile, "a");
let write;
function start() {
  child = spawn("/bin/sh", ["-c", "exec " + command], { cwd, env: process.env, stdio: ["ignore", log, log] });
  write(servicePidFile, String(child.pid));
  child.on("exit", (code, signal) => {
    fs.writeSync(log, "[supervisor] service exited code=" + code + " signal=" + signal + "\n");
    if (stopping) return done();
    if (restarts >= maxRestarts) { fs.writeSync(log, "[supervisor] giving up\n"); return done(); }
    restarts++;
    setTimeout(start, 200 * restarts);
  });
}
function done() {
  try { fs.rmSync(servicePidFile, { force: true }); } catch {}
  try { if (fs.readFileSync(pidFile, "utf8") === String(process.pid)) fs.rmSync(pidFile, { force: true }); } catch {}
  process.exit(0);
}
function stop() {
  if (stopping) return;
  stopping = true;
  if (!child || child.exitCode !== null || child.signalCode !== null) return done();
  child.kill("SIGTERM");
  setTimeout(() => { try { child.kill("SIGKILL"); } catch {} }, 3000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.on("SIGHUP", () => {});
import(supportUrl).then((support) => {
  write = support.writeFileAtomicSync;
  write(pidFile, String(process.pid));
  if (!stopping) start();
}, (e) => {
  fs.writeSync(log, "[supervisor] cannot load " + supportUrl + ": " + e + "\n");
  process.exit(1);
});
`;
