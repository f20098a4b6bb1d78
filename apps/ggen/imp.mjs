const t0 = performance.now(); let last = t0; const out = [];
for (const m of process.argv.slice(2)) { await import(m); const t = performance.now(); out.push(`${m}=${(t - last).toFixed(1)}`); last = t; }
console.log(out.join(" "));
