// Two agent processes (the real bundle) sharing one Firestore emulator, behind nothing but their own
// ports: a conversation continues on whichever instance a turn lands, turns on one session queue
// across instances, a dead instance blocks its session only for the lease, and Firestore going away
// is a 503 that names it, then recovery.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { silentLogger } from "../../common/log.js";
import type { Content } from "../src/models/types.js";
import { createFirestoreStore, type FirestoreSessionStore } from "../src/sessions/firestore.js";
import {
  hasGcloud,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../../test/support/firestore-emulator.js";
import { startFrankfurter, type FakeFrankfurter } from "../../test/support/frankfurter.js";
import { startGemini, type FakeGemini } from "../../test/support/gemini.js";
import { startService, type RunningService } from "../../test/support/service.js";
import { chat } from "../../test/support/agent.js";

const gcloud = hasGcloud();
if (!gcloud && process.env.CI)
  throw new Error(
    "gcloud (with the Firestore emulator) is not installed: the Firestore store tests cannot run",
  );

const LEASE_SECONDS = 3;
const textOf = (c: Content | { parts: Array<Record<string, unknown>> }): string =>
  String((c.parts[0] as { text?: string }).text ?? "");

/**
 * Sits between the agents and the Gemini stand-in, holding requests for `delayMs` first: a model
 * that is slow to answer, so an instance can be killed in the middle of a turn.
 */
async function startDelay(
  target: string,
): Promise<{ url: string; delayMs: number; arrived: number; close(): Promise<void> }> {
  const state = { delayMs: 0, arrived: 0 };
  const server: Server = createServer((req, res) => {
    state.arrived++;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const timer = setTimeout(async () => {
        try {
          const body =
            req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks);
          const upstream = await fetch(new URL(req.url ?? "/", target), {
            method: req.method,
            headers: req.headers as Record<string, string>,
            body,
          });
          res
            .writeHead(upstream.status, {
              "content-type": upstream.headers.get("content-type") ?? "application/json",
            })
            .end(Buffer.from(await upstream.arrayBuffer()));
        } catch {
          res.destroy();
        }
      }, state.delayMs);
      res.on("close", () => clearTimeout(timer)); // the caller is gone (killed)
    });
    res.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

describe("two agents sharing Firestore", {
  skip: gcloud ? false : "gcloud is not installed: no Firestore emulator",
}, () => {
  const project = `demo-${randomUUID().slice(0, 8)}`;
  const collection = "agent-sessions";
  let emulator: FirestoreEmulator;
  let upstream: FakeFrankfurter;
  let mcp: RunningService;
  let gemini: FakeGemini;
  let delay: Awaited<ReturnType<typeof startDelay>>;
  let a: RunningService;
  let b: RunningService;
  let store: FirestoreSessionStore;
  const agents: RunningService[] = [];
  let env: Record<string, string>;

  const startAgent = async (): Promise<RunningService> => {
    const agent = await startService("agent", env);
    agents.push(agent);
    return agent;
  };
  const history = (sessionId: string, userId = "anonymous"): Promise<Content[]> =>
    store.load({ app: "currency-agent", userId, sessionId });

  before(async () => {
    [emulator, upstream, gemini] = await Promise.all([
      startFirestoreEmulator(),
      startFrankfurter(),
      startGemini(),
    ]);
    delay = await startDelay(gemini.url);
    mcp = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
    env = {
      MCP_SERVER_URL: `${mcp.url}/mcp`,
      MODEL_PROVIDER: "gemini",
      GOOGLE_API_KEY: "test-key",
      GOOGLE_GEMINI_BASE_URL: delay.url,
      SESSION_STORE: "firestore",
      FIRESTORE_EMULATOR_HOST: emulator.host,
      GOOGLE_CLOUD_PROJECT: project,
      FIRESTORE_COLLECTION: collection,
      SESSION_LEASE_SECONDS: String(LEASE_SECONDS),
      SESSION_MAX_MESSAGES: "60", // the opening turn and 20 more, untrimmed
    };
    [a, b] = await Promise.all([startAgent(), startAgent()]);
    // The test reads what the agents saved through the same store code, in this process.
    process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
    store = await createFirestoreStore({
      projectId: project,
      databaseId: "(default)",
      collection,
      ttlMs: 3_600_000,
      maxMessages: 100,
      maxBytes: 1_000_000,
      leaseMs: 5_000,
      logger: silentLogger,
    });
  });
  after(async () => {
    await Promise.all(agents.map((x) => x.stop("SIGKILL")));
    await mcp?.stop();
    await store?.close();
    await Promise.all([emulator?.stop(), upstream?.close(), gemini?.close(), delay?.close()]);
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  it("says at / that conversations are in Firestore, and is ready", async () => {
    assert.equal(
      (
        (await (await fetch(a.url, { headers: { accept: "application/json" } })).json()) as {
          session_store: string;
        }
      ).session_store,
      "firestore",
    );
    assert.equal((await fetch(`${b.url}/ready`)).status, 200);
  });

  it("continues on B a conversation begun on A, with A's turn in the history sent to the model", async () => {
    const first = await chat(a, { message: "What is 100 USD in EUR?", user_id: "alice" });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const conv = first.body.session_id as string; // the agent issues the ids; only they continue
    gemini.script({ parts: [{ text: "You asked about 100 USD in EUR." }] });
    const before = gemini.requests.length;
    const second = await chat(b, {
      message: "What did I ask?",
      session_id: conv,
      user_id: "alice",
    });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.response, "You asked about 100 USD in EUR.");
    const sent = gemini.requests[before]!.body.contents;
    assert.deepEqual(sent[0], { role: "user", parts: [{ text: "What is 100 USD in EUR?" }] });
    assert.equal(sent.length, 5, "turn 1 (question, call, result, answer) and the new question");
    // Another user with the same session id sees none of it.
    const start = gemini.requests.length;
    const other = await chat(b, {
      message: "What did I ask?",
      session_id: conv,
      user_id: "mallory",
    });
    assert.equal(other.status, 200);
    assert.deepEqual(gemini.requests[start]!.body.contents, [
      { role: "user", parts: [{ text: "What did I ask?" }] },
    ]);
  });

  it("serialises 20 turns sent at once, alternately to A and B: all answered, all kept, in one order", async () => {
    const before = gemini.requests.length;
    const opened = await chat(a, { message: "turn start" });
    const burst = opened.body.session_id as string;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        chat(n % 2 ? b : a, { message: `turn ${n}`, session_id: burst }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      Array(20).fill(200),
      JSON.stringify(results.find((r) => r.status !== 200)?.body),
    );
    assert.ok(
      results.every((r) => r.body.session_id === burst),
      "every turn continued the one session",
    );
    const saved = await history(burst);
    assert.equal(saved.length, 42);
    const order = saved.filter((c) => c.role === "user").map(textOf);
    assert.equal(order[0], "turn start");
    assert.deepEqual(
      [...order.slice(1)].sort(),
      Array.from({ length: 20 }, (_, n) => `turn ${n}`).sort(),
    );
    // Each turn saw exactly the turns saved before it: none ran on a stale history.
    for (const req of gemini.requests.slice(before)) {
      const contents = req.body.contents;
      const position = order.indexOf(textOf(contents.at(-1)!));
      assert.equal(
        contents.length,
        2 * position + 1,
        `turn "${textOf(contents.at(-1)!)}" saw ${contents.length - 1} messages`,
      );
      assert.deepEqual(contents.slice(0, -1), saved.slice(0, 2 * position));
    }
  });

  it("after A is killed mid-turn, B serves the next turn on that session once the lease ends", async () => {
    const killed = (await chat(a, { message: "first" })).body.session_id as string;
    delay.delayMs = 60_000;
    const arrived = delay.arrived;
    const doomed = chat(a, { message: "never answered", session_id: killed }).catch(
      () => undefined,
    );
    while (delay.arrived === arrived) await new Promise((r) => setTimeout(r, 20)); // A holds the session, waiting on the model
    delay.delayMs = 0;
    await a.stop("SIGKILL");
    await doomed;
    const started = Date.now();
    const next = await chat(b, { message: "still there?", session_id: killed });
    const waited = Date.now() - started;
    assert.equal(next.status, 200, JSON.stringify(next.body));
    // Generous: the bound is the lease (3 s); a session stuck for good would never answer at all.
    assert.ok(waited < LEASE_SECONDS * 1000 * 5, `waited ${waited} ms`);
    assert.deepEqual((await history(killed)).filter((c) => c.role === "user").map(textOf), [
      "first",
      "still there?",
    ]);
    a = await startAgent();
  });

  it("answers 503 naming Firestore while the emulator is down, and recovers when it is back", async () => {
    await emulator.stop();
    const down = await chat(b, { message: "hello", session_id: "outage" });
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.error!.code, "session_store_unavailable");
    assert.match(down.body.error!.message, /Firestore/);
    assert.match(down.body.error!.message, /check/);
    assert.doesNotMatch(
      down.body.error!.message,
      new RegExp(String(emulator.port)),
      "no internal address",
    );
    const ready = await fetch(`${b.url}/ready`);
    assert.equal(ready.status, 503);
    assert.match(
      ((await ready.json()) as { error: { message: string } }).error.message,
      /Firestore/,
    );
    assert.equal(b.proc.exitCode, null, "still running");
    await emulator.restart();
    const back = await chat(b, { message: "hello again", session_id: "outage" });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal((await fetch(`${b.url}/ready`)).status, 200);
  });
});
