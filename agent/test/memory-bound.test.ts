// Issue 10, item 1: the memory store is bounded by bytes. The attack run's load (many sessions of
// 8,000-character turns) against an agent with a small heap: it must stay up, the oldest sessions must
// be gone and the recent ones intact. With the old count bound (10,000 sessions of 40 messages) every
// session was kept: at full scale that ran a 384 MB heap out of memory.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { startFrankfurter, type FakeFrankfurter } from "../../test/support/frankfurter.js";
import { startGemini, type FakeGemini } from "../../test/support/gemini.js";
import { startService, type RunningService } from "../../test/support/service.js";

// Scaled down from 1,200 × 20 at 384 MB so it runs in seconds on a shared machine; the store's bound is
// scaled with it (4 MiB against the default 128 MiB), so most sessions still cannot all be held.
const SESSIONS = 150;
const TURNS = 10;
const HEAP_MB = 48;
const message = (s: number, t: number): string =>
  `session ${s} turn ${t} `.padEnd(8_000, "lorem ipsum dolor amet consectetur ");

describe("memory store under the attack run's load, heap-capped agent", () => {
  let upstream: FakeFrankfurter;
  let mcp: RunningService;
  let gemini: FakeGemini;
  let agent: RunningService;
  before(async () => {
    [upstream, gemini] = await Promise.all([startFrankfurter(), startGemini()]);
    mcp = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
    agent = await startService("agent", {
      MCP_SERVER_URL: `${mcp.url}/mcp`,
      MODEL_PROVIDER: "gemini",
      GOOGLE_API_KEY: "test-key",
      GOOGLE_GEMINI_BASE_URL: gemini.url,
      NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`,
      SESSION_MEMORY_MAX_BYTES: String(4 * 1024 * 1024),
    });
  });
  after(async () => {
    await agent?.stop();
    await mcp?.stop();
    await Promise.all([upstream?.close(), gemini?.close()]);
  });

  it(`stays up through ${SESSIONS} sessions × ${TURNS} turns of 8,000 characters, dropping the oldest sessions whole`, async () => {
    // Eight clients at a time, each holding a conversation of 20 turns, then starting another.
    const sessions = Array.from({ length: SESSIONS }, (_, s) => s);
    // The ids the agent issued, by session: only those continue a conversation.
    const ids: string[] = [];
    let failed = "";
    const worker = async (): Promise<void> => {
      for (let s = sessions.shift(); s !== undefined && !failed; s = sessions.shift()) {
        for (let t = 0; t < TURNS && !failed; t++) {
          try {
            const res = await fetch(`${agent.url}/chat`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                message: message(s, t),
                ...(ids[s] ? { session_id: ids[s] } : {}),
              }),
            });
            if (res.status !== 200)
              failed = `turn ${t} of s${s}: ${res.status} ${await res.text()}`;
            else ids[s] ??= ((await res.json()) as { session_id: string }).session_id;
          } catch (err) {
            failed = `turn ${t} of s${s}: ${(err as Error).message}\n${agent.output().slice(-2_000)}`;
          }
          gemini.requests.length = 0; // the stand-in's record of 8 KB prompts is not what is measured
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.equal(failed, "");
    assert.equal(agent.proc.exitCode, null, "the agent is still running");
    const rss =
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${agent.proc.pid}/status`, "utf8"))?.[1]) /
      1024;

    // What the model is sent on one more turn shows what the store kept.
    const probe = async (s: number): Promise<number> => {
      gemini.script({ parts: [{ text: "ok" }] });
      const res = await fetch(`${agent.url}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "and?", session_id: ids[s] }),
      });
      assert.equal(res.status, 200);
      return gemini.requests.at(-1)!.body.contents.length - 1;
    };
    assert.equal(await probe(SESSIONS - 1), 2 * TURNS, "the most recent session has all its turns");
    assert.equal(await probe(0), 0, `the oldest session went (agent RSS ${rss.toFixed(0)} MiB)`);
  });
});
