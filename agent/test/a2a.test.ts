// A2A in-process: what the endpoint refuses (always as a JSON-RPC error, never a 500), who may call,
// the switch, and the task store's bounds. The real clients are in test/a2a.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ServerCallContext } from "@a2a-js/sdk/server";
import type { Task } from "@a2a-js/sdk";
import { TASK_BOUNDS, taskStore } from "../src/a2a/index.js";
import { BoundedMap } from "../src/sessions/index.js";
import { buildAgent, FakeTools, post } from "../../test/support/agent.js";
import { createIdTokenSigner } from "../../test/support/id-tokens.js";

type App = Awaited<ReturnType<typeof buildAgent>>["app"];
type Rpc = { status: number; body: { result?: any; error?: { code: number; message: string } } };

async function rpc(
  app: App,
  method: string,
  params: unknown,
  headers: Record<string, string> = { "A2A-Version": "1.0" },
): Promise<Rpc> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 7, method, params });
  const res = await app.request(
    "/a2a",
    post(body, { "content-type": "application/json", ...headers }),
  );
  return { status: res.status, body: (await res.json()) as Rpc["body"] };
}

const v1Message = (parts: unknown[], contextId?: string) => ({
  message: { messageId: "m1", role: "ROLE_USER", parts, ...(contextId ? { contextId } : {}) },
});
const v03Message = (parts: unknown[]) => ({
  message: { kind: "message", messageId: "m1", role: "user", parts },
});

describe("A2A refuses bad input with an A2A error", async () => {
  const { app } = await buildAgent({ tools: new FakeTools() });

  const cases: Array<[string, () => Promise<Rpc>, number]> = [
    ["an unknown v1.0 method", () => rpc(app, "SendMessages", v1Message([{ text: "hi" }])), -32601],
    ["an unknown v0.3 method", () => rpc(app, "message/sent", v03Message([]), {}), -32601],
    ["no parts", () => rpc(app, "SendMessage", v1Message([])), -32602],
    ["no text", () => rpc(app, "SendMessage", v1Message([{ text: "   " }])), -32602],
    [
      "a v1.0 file part",
      () => rpc(app, "SendMessage", v1Message([{ url: "https://x.test/a.pdf" }])),
      -32005,
    ],
    [
      "a v0.3 file part",
      () =>
        rpc(
          app,
          "message/send",
          v03Message([{ kind: "file", file: { uri: "https://x.test/a.pdf" } }]),
          {},
        ),
      -32005,
    ],
    [
      "a message over 8000 characters",
      () => rpc(app, "SendMessage", v1Message([{ text: "a".repeat(8001) }])),
      -32602,
    ],
    [
      "2 MB of text",
      () => rpc(app, "SendMessage", v1Message([{ text: "a".repeat(2_000_000) }])),
      -32600,
    ],
    [
      "an unknown A2A-Version",
      () => rpc(app, "SendMessage", v1Message([{ text: "hi" }]), { "A2A-Version": "9.9" }),
      -32009,
    ],
  ];
  for (const [what, call, code] of cases) {
    it(what, async () => {
      const { status, body } = await call();
      assert.equal(status, 200);
      assert.equal(body.error?.code, code, JSON.stringify(body));
      assert.ok(body.error.message.length > 0);
    });
  }

  it("invalid JSON and a body that is not JSON", async () => {
    const headers = { "content-type": "application/json" };
    const broken = await app.request("/a2a", post("{", headers));
    assert.equal(((await broken.json()) as Rpc["body"]).error?.code, -32700);
    const text = await app.request("/a2a", post("hi", { "content-type": "text/plain" }));
    assert.equal(text.status, 200);
    assert.equal(((await text.json()) as Rpc["body"]).error?.code, -32005);
  });

  it("an anonymous caller's own contextId: continue only what the agent started", async () => {
    const { body } = await rpc(app, "SendMessage", v1Message([{ text: "hi" }], "my-context"));
    assert.equal(body.error?.code, -32602);
    assert.match(body.error!.message, /contextId/);
  });

  it("answers a good message after all of that", async () => {
    const { status, body } = await rpc(app, "SendMessage", v1Message([{ text: "100 USD in EUR" }]));
    assert.equal(status, 200);
    assert.equal(body.result.task.status.state, "TASK_STATE_COMPLETED");
  });
});

describe("A2A under AGENT_ACCESS=private", async () => {
  const signer = await createIdTokenSigner();
  const bearer = async (email: string) => ({
    "A2A-Version": "1.0",
    authorization: `Bearer ${await signer.sign({ aud: "https://agent.run.app", email, sub: email })}`,
  });
  const { app } = await buildAgent({ tools: new FakeTools() }, { AGENT_ACCESS: "private" });

  it("refuses an unauthenticated call where /chat does", async () => {
    const chat = await app.request(
      "/chat",
      post('{"message":"hi"}', { "content-type": "application/json" }),
    );
    assert.equal(chat.status, 401);
    const { status, body } = await rpc(app, "SendMessage", v1Message([{ text: "hi" }]));
    assert.equal(status, 401);
    assert.equal(body.error?.code, -32600);
    assert.match(body.error!.message, /Google ID token/);
  });

  it("keys tasks and conversations by the caller: another principal cannot read them", async () => {
    const alice = await bearer("alice@example.com");
    const sent = await rpc(app, "SendMessage", v1Message([{ text: "100 USD in EUR" }]), alice);
    const task = sent.body.result.task;
    assert.equal(task.status.state, "TASK_STATE_COMPLETED");
    const own = await rpc(app, "GetTask", { id: task.id }, alice);
    assert.equal(own.body.result.id, task.id);
    const bob = await rpc(app, "GetTask", { id: task.id }, await bearer("bob@example.com"));
    assert.equal(bob.body.error?.code, -32001);
  });

  it("declares on its card the Google ID token a caller must send", async () => {
    for (const version of [{ "A2A-Version": "1.0" }, {} as Record<string, string>]) {
      const res = await app.request("/.well-known/agent-card.json", { headers: version });
      const card = (await res.json()) as Record<string, any>;
      const scheme = card.securitySchemes.google_id_token;
      const url = scheme.openIdConnectUrl ?? scheme.openIdConnectSecurityScheme?.openIdConnectUrl;
      assert.equal(url, "https://accounts.google.com/.well-known/openid-configuration");
    }
  });
});

describe("A2A settings", () => {
  it("A2A_ENABLED=false: no card, no endpoint", async () => {
    const { app } = await buildAgent({ tools: new FakeTools() }, { A2A_ENABLED: "false" });
    assert.equal((await app.request("/.well-known/agent-card.json")).status, 404);
    assert.equal((await rpc(app, "SendMessage", v1Message([{ text: "hi" }]))).status, 404);
  });

  it("A2A_PUBLIC_URL names the endpoint on the card", async () => {
    const { app } = await buildAgent(
      { tools: new FakeTools() },
      { A2A_PUBLIC_URL: "https://rates.example.com" },
    );
    const res = await app.request("/.well-known/agent-card.json", {
      headers: { "A2A-Version": "1.0" },
    });
    const card = (await res.json()) as { supportedInterfaces: Array<{ url: string }> };
    assert.equal(card.supportedInterfaces[0]!.url, "https://rates.example.com/a2a");
  });

  it("a bad A2A setting stops start-up naming it", async () => {
    await assert.rejects(buildAgent({}, { A2A_ENABLED: "yes" }), /A2A_ENABLED/);
    await assert.rejects(buildAgent({}, { A2A_PUBLIC_URL: "rates" }), /A2A_PUBLIC_URL/);
  });
});

describe("the A2A task store is bounded", () => {
  const context = new ServerCallContext();
  const bounded = (bounds: Partial<typeof TASK_BOUNDS>) => {
    const tasks = new BoundedMap<Task>({ ...TASK_BOUNDS, ...bounds });
    return { tasks, store: taskStore(tasks) };
  };
  const task = (id: string, text = "") => ({
    id,
    contextId: "c",
    status: undefined,
    artifacts: [],
    history: [],
    metadata: { text },
  });

  it("in count: the least recently used go first", async () => {
    const { tasks, store } = bounded({ maxEntries: 3 });
    for (const id of ["a", "b", "c", "d"]) await store.save(task(id), context);
    await store.save(task("b"), context);
    assert.equal(tasks.size, 3);
    assert.equal(await store.load("a", context), undefined);
    assert.equal((await store.load("b", context))?.id, "b");
  });

  it("in bytes", async () => {
    const { tasks, store } = bounded({ maxBytes: 10_000 });
    for (let i = 0; i < 20; i++) await store.save(task(`t${i}`, "x".repeat(1000)), context);
    assert.ok(tasks.bytes <= 10_000, String(tasks.bytes));
    assert.ok(tasks.size < 20 && tasks.size > 5, String(tasks.size));
    assert.equal((await store.load("t19", context))?.id, "t19");
  });

  it("in age", async () => {
    let now = 0;
    const { tasks, store } = bounded({ ttlMs: 1000, now: () => now });
    await store.save(task("old"), context);
    now = 1001;
    assert.equal(await store.load("old", context), undefined);
    assert.equal(tasks.size, 0);
  });
});
