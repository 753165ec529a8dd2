// The official TypeScript SDK's figures for one session, for versions_spec:
// the agents listed in system/init (sorted names) and the context usage after
// one turn. Printed as one JSON line on stdout.
//
// usage: node ts_session_figures.mjs <sdk package dir> <claude path> <prompt>
// The environment (HOME, ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY) is the
// caller's: the same offline model server and throwaway HOME the Lua side gets.
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const [sdkDir, cliPath, prompt] = process.argv.slice(2);
const { query } = await import(pathToFileURL(join(sdkDir, "sdk.mjs")).href);

// Streaming input keeps the session open after the turn, so the context usage
// can be asked for, as the Lua client does between turns.
let finish;
const done = new Promise((resolve) => { finish = resolve; });
async function* input() {
  yield { type: "user", message: { role: "user", content: prompt }, parent_tool_use_id: null, session_id: "" };
  await done;
}

const q = query({ prompt: input(), options: { pathToClaudeCodeExecutable: cliPath, env: process.env } });
let agents = [];
// Read by hand: leaving a for-await loop would close the query.
for (;;) {
  const { value: m, done: ended } = await q.next();
  if (ended) throw new Error("the session ended before a result");
  if (m.type === "system" && m.subtype === "init") agents = (m.agents || []).map((a) => (typeof a === "string" ? a : a.name));
  if (m.type === "result") break;
}
const usage = await q.getContextUsage();
finish();
q.close();
agents.sort();
process.stdout.write(JSON.stringify({ agents, totalTokens: usage.totalTokens }) + "\n");
process.exit(0);
