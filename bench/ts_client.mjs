// The official TypeScript SDK on the bench's work: one query() against the
// fake CLI, every message consumed until the result.  Prints
//   connect_ms=… turn_ms=… messages=…
// connect_ms: query() called until the first message (the fake sends
// system/init when the turn starts, so this is spawn + initialize + the turn's
// start); turn_ms: the first message until the result.  The TS SDK has no
// separate connect step to time, hence the split differs from bench/client.lua.
//   BENCH_CLI=build/bench/fake_cli BENCH_N=1000 node bench/ts_client.mjs
// The SDK is installed by `make bench` into .deps/bench-ts (BENCH_TS_SDK
// overrides the package folder).
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const pkg = process.env.BENCH_TS_SDK ||
  path.join(here, "..", ".deps", "bench-ts", "node_modules", "@anthropic-ai", "claude-agent-sdk");
const { query } = await import(pathToFileURL(path.join(pkg, "sdk.mjs")).href);

const cli = process.env.BENCH_CLI;
if (!cli) {
  console.error("ts_client: set BENCH_CLI to the fake CLI");
  process.exit(2);
}
const partial = process.env.BENCH_PARTIAL === "1";

const t0 = performance.now();
let t1 = -1, t2 = -1, n = 0, after = 0;
for await (const m of query({
  prompt: "go",
  options: { pathToClaudeCodeExecutable: path.resolve(cli), includePartialMessages: partial },
})) {
  if (t2 >= 0) { after++; continue; } // the stream should end at the result: counted to catch it
  if (n === 0) t1 = performance.now();
  n++;
  if (m.type === "result") t2 = performance.now();
}
if (t2 < 0 || after > 0) {
  console.error(`ts_client: ${t2 < 0 ? "no result" : `${after} message(s) after the result`} (${n} before)`);
  process.exit(1);
}
console.log(`connect_ms=${(t1 - t0).toFixed(3)} turn_ms=${(t2 - t1).toFixed(3)} messages=${n}`);
