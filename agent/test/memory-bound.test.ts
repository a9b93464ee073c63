// The memory store is bounded by bytes, and by default that bound follows the heap. The attack run's
// load (thousands of anonymous 8,000-character turns, each in a new session) against an agent with a
// 96 MB heap and no SESSION_MEMORY_MAX_BYTES: it must stay up, its heap must level off, the oldest
// sessions must be gone and the recent ones intact. With a fixed 128 MiB default (more than the whole
// heap) nothing was ever dropped and this load ran the agent out of memory.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startFrankfurter, type FakeFrankfurter } from "../../test/support/frankfurter.js";
import { startGemini, type FakeGemini } from "../../test/support/gemini.js";
import { bundlePath, startService, type RunningService } from "../../test/support/service.js";

const SESSIONS = 3_960;
const HEAP_MB = 96;
const message = (s: number, t: number): string =>
  `session ${s} turn ${t} `.padEnd(8_000, "lorem ipsum dolor € amet consectetur ");

/** The largest heap in use --trace-gc reported before a collection, in MB. */
const heapPeakMb = (output: string): number =>
  Math.max(
    ...[...output.matchAll(/ ([\d.]+) \([\d.]+\) -> [\d.]+ \([\d.]+\) MB/g)].map((m) => +m[1]!),
  );

describe("memory store under the attack run's load, heap-capped agent, default bounds", () => {
  let upstream: FakeFrankfurter;
  let mcp: RunningService;
  let gemini: FakeGemini;
  let agent: RunningService;
  before(async () => {
    [upstream, gemini] = await Promise.all([startFrankfurter(), startGemini()]);
    mcp = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
    agent = await startService(
      "agent",
      {
        MCP_SERVER_URL: `${mcp.url}/mcp`,
        MODEL_PROVIDER: "gemini",
        GOOGLE_API_KEY: "test-key",
        GOOGLE_GEMINI_BASE_URL: gemini.url,
      },
      {
        command: [
          process.execPath,
          `--max-old-space-size=${HEAP_MB}`,
          "--trace-gc",
          bundlePath("agent"),
        ],
      },
    );
  });
  after(async () => {
    await agent?.stop();
    await mcp?.stop();
    await Promise.all([upstream?.close(), gemini?.close()]);
  });

  it(`stays up through ${SESSIONS} new sessions of one 8,000-character turn, dropping the oldest`, async () => {
    const sessions = Array.from({ length: SESSIONS }, (_, s) => s);
    // The ids the agent issued, by session: only those continue a conversation.
    const ids: string[] = [];
    let failed = "";
    const worker = async (): Promise<void> => {
      for (let s = sessions.shift(); s !== undefined && !failed; s = sessions.shift()) {
        try {
          const res = await fetch(`${agent.url}/chat`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: message(s, 0) }),
          });
          if (res.status !== 200) failed = `s${s}: ${res.status} ${await res.text()}`;
          else ids[s] = ((await res.json()) as { session_id: string }).session_id;
        } catch (err) {
          failed = `s${s}: ${(err as Error).message}\n${agent.output().slice(-2_000)}`;
        }
        gemini.requests.length = 0; // the stand-in's record of 8 KB prompts is not what is measured
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const peak = heapPeakMb(agent.output());
    assert.equal(failed, "");
    assert.equal(agent.proc.exitCode, null, "the agent is still running");
    assert.ok(peak < HEAP_MB, `heap peak ${peak} MB levels off below ${HEAP_MB} MB`);

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
    assert.equal(await probe(SESSIONS - 1), 2, "the most recent session has its turn");
    assert.equal(await probe(0), 0, `the oldest session went (heap peak ${peak} MB)`);
    console.log(`heap peak ${peak} MB`);
  });
});
