// A2A with real clients against the agent's bundle, the real mcp-server and the Frankfurter
// stand-in: the official @a2a-js/sdk client at v1.0 (1.3) and at v0.3 (0.3.14, the one ADK 2.0
// ships), with the offline model and with the Gemini stand-in; then ADK's RemoteA2AAgent
// delegating to the agent inside an ADK runner.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { ClientFactory } from "@a2a-js/sdk/client";
import {
  BaseLlm,
  type BaseLlmConnection,
  InMemoryRunner,
  LlmAgent,
  type LlmRequest,
  type LlmResponse,
  RemoteA2AAgent,
} from "@google/adk";
import {
  expectedConversion,
  startFrankfurter,
  type FakeFrankfurter,
} from "./support/frankfurter.js";
import { startGemini, type FakeGemini } from "./support/gemini.js";
import { startService, type RunningService } from "./support/service.js";

// ADK 2.0's own copy of the SDK: the v0.3 client Gemini Enterprise and ADK peers speak.
type V03 =
  typeof import("../node_modules/@google/adk/node_modules/@a2a-js/sdk/dist/client/index.js");
const v03: V03 = createRequire(createRequire(import.meta.url).resolve("@google/adk"))(
  "@a2a-js/sdk/client",
);

const EUR = String(expectedConversion("USD", "EUR", 100));
const GBP = String(expectedConversion("USD", "GBP", 100));

/** What both client versions are asked to do, in each one's own types. */
interface Door {
  send(text: string, contextId?: string): Promise<Done>;
  stream(text: string, onWorking?: (taskId: string) => Promise<void>): Promise<Streamed>;
  get(taskId: string): Promise<Done>;
  cancel(taskId: string): Promise<string>;
}
interface Done {
  taskId: string;
  contextId: string;
  state: string;
  answer: string;
}
interface Streamed extends Done {
  kinds: string[];
  working: string[];
}
const streamed = (): Streamed => ({
  taskId: "",
  contextId: "",
  state: "",
  answer: "",
  kinds: [],
  working: [],
});

async function v1Door(url: string): Promise<Door> {
  const client = await new ClientFactory().createFromUrl(url);
  const text = (parts: Array<{ content?: { $case: string; value?: unknown } }> = []): string =>
    parts.map((p) => (p.content?.$case === "text" ? String(p.content.value) : "")).join("");
  const done = (t: any): Done => ({
    taskId: t.id,
    contextId: t.contextId,
    state: stateName(t.status?.state),
    answer: text(t.artifacts?.[0]?.parts) || text(t.status?.message?.parts),
  });
  const message = (value: string, contextId = "") => ({
    messageId: crypto.randomUUID(),
    contextId,
    taskId: "",
    role: 1,
    parts: [
      {
        content: { $case: "text" as const, value },
        metadata: undefined,
        filename: "",
        mediaType: "",
      },
    ],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  });
  return {
    send: async (value, contextId) =>
      done(await client.sendMessage({ message: message(value, contextId) } as any)),
    async stream(value, onWorking) {
      const out = streamed();
      for await (const e of client.sendMessageStream({ message: message(value) } as any)) {
        const { $case, value: v } = (e as any).payload;
        out.kinds.push($case);
        if ($case === "task") Object.assign(out, { taskId: v.id, contextId: v.contextId });
        if ($case === "artifactUpdate") out.answer += text(v.artifact.parts);
        if ($case !== "statusUpdate") continue;
        out.state = stateName(v.status.state);
        const said = text(v.status.message?.parts);
        if (out.state === "working" && said) {
          out.working.push(said);
          await onWorking?.(v.taskId);
        }
        if (out.state !== "working" && said) out.answer ||= said;
      }
      return out;
    },
    get: async (id) => done(await client.getTask({ id, tenant: "" } as any)),
    cancel: async (id) =>
      stateName((await client.cancelTask({ id, tenant: "" } as any)).status?.state),
  };
}

async function v03Door(url: string): Promise<Door> {
  const client = await new v03.ClientFactory().createFromUrl(url);
  const text = (parts: any[] = []): string => parts.map((p) => p.text ?? "").join("");
  const done = (t: any): Done => ({
    taskId: t.id,
    contextId: t.contextId,
    state: t.status.state,
    answer: text(t.artifacts?.[0]?.parts) || text(t.status.message?.parts),
  });
  const message = (value: string, contextId?: string) => ({
    kind: "message" as const,
    messageId: crypto.randomUUID(),
    role: "user" as const,
    parts: [{ kind: "text" as const, text: value }],
    ...(contextId ? { contextId } : {}),
  });
  return {
    send: async (value, contextId) =>
      done(await client.sendMessage({ message: message(value, contextId) })),
    async stream(value, onWorking) {
      const out = streamed();
      for await (const e of client.sendMessageStream({ message: message(value) })) {
        out.kinds.push(e.kind);
        if (e.kind === "task") Object.assign(out, { taskId: e.id, contextId: e.contextId });
        if (e.kind === "artifact-update") out.answer += text(e.artifact.parts);
        if (e.kind !== "status-update") continue;
        out.state = e.status.state;
        const said = text(e.status.message?.parts);
        if (out.state === "working" && said) {
          out.working.push(said);
          await onWorking?.(e.taskId);
        }
        if (out.state !== "working" && said) out.answer ||= said;
      }
      return out;
    },
    get: async (id) => done(await client.getTask({ id })),
    cancel: async (id) => (await client.cancelTask({ id })).status.state,
  };
}

/** v1.0's enum as v0.3 names it: TASK_STATE_COMPLETED → completed. */
function stateName(state: number | undefined): string {
  const names = ["unspecified", "submitted", "working", "completed", "failed", "canceled"];
  return names[state ?? 0] ?? `state ${state}`;
}

describe("A2A: the official clients against the agent", () => {
  let upstream: FakeFrankfurter;
  let gemini: FakeGemini;
  let mcp: RunningService;
  const agents: Record<string, RunningService> = {};
  before(async () => {
    upstream = await startFrankfurter();
    gemini = await startGemini();
    mcp = await startService("mcp-server", { FRANKFURTER_URL: upstream.url });
    const env = { MCP_SERVER_URL: `${mcp.url}/mcp` };
    [agents.offline, agents.gemini] = await Promise.all([
      startService("agent", { ...env, MODEL_PROVIDER: "offline" }),
      startService("agent", {
        ...env,
        GOOGLE_API_KEY: "test-key",
        GOOGLE_GEMINI_BASE_URL: gemini.url,
      }),
    ]);
  });
  after(async () => {
    await Promise.all(Object.values(agents).map((a) => a.stop()));
    await mcp?.stop();
    await Promise.all([upstream?.close(), gemini?.close()]);
  });

  it("serves the card: v1.0 interfaces and the v0.3 fields at the request's own URL", async () => {
    const url = `${agents.offline!.url}/.well-known/agent-card.json`;
    const card = (await (await fetch(url)).json()) as Record<string, any>;
    assert.equal(card.name, "currency-agent");
    assert.equal(card.protocolVersion, "0.3.0");
    assert.equal(card.url, `${agents.offline!.url}/a2a`);
    assert.deepEqual(
      card.supportedInterfaces.map((i: any) => i.protocolVersion),
      ["1.0", "0.3"],
    );
    assert.equal(card.capabilities.streaming, true);
    assert.deepEqual(card.skills[0].tags.sort(), [
      "get_exchange_rate",
      "get_exchange_rate_history",
      "list_currencies",
    ]);
    const forwarded = await fetch(url, {
      headers: {
        "A2A-Version": "1.0",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "agent-x.a.run.app",
      },
    });
    const v1 = (await forwarded.json()) as Record<string, any>;
    assert.equal(v1.url, undefined);
    assert.equal(v1.supportedInterfaces[0].url, "https://agent-x.a.run.app/a2a");
  });

  for (const model of ["offline", "gemini"] as const) {
    for (const [version, open] of [
      ["v1.0", v1Door],
      ["v0.3", v03Door],
    ] as const) {
      describe(`${version} client, ${model} model`, () => {
        let door: Door;
        let first: Done;
        before(async () => {
          upstream.setMode("ok");
          door = await open(agents[model]!.url);
        });

        it("sends: the answer is the completed task's artifact", async () => {
          first = await door.send("What is 100 USD in EUR?");
          assert.equal(first.state, "completed");
          assert.ok(first.answer.includes(`${EUR} EUR`), first.answer);
        });

        it("continues the conversation by contextId", async () => {
          const asked = gemini.requests.length;
          const next = await door.send(
            model === "offline" ? "and in GBP?" : "What is 100 USD in GBP?",
            first.contextId,
          );
          assert.equal(next.contextId, first.contextId);
          assert.notEqual(next.taskId, first.taskId);
          assert.ok(next.answer.includes(`${GBP} GBP`), next.answer);
          if (model === "gemini") {
            const history = JSON.stringify(gemini.requests[asked]!.body.contents);
            assert.ok(history.includes("What is 100 USD in EUR?"), history);
          }
        });

        it("streams: the task, tool calls as working status, the artifact, completed", async () => {
          const s = await door.stream("What is 100 USD in EUR?");
          assert.equal(s.kinds[0], "task");
          assert.deepEqual(s.working, ["get_exchange_rate…"]);
          assert.ok(s.answer.includes(`${EUR} EUR`), s.answer);
          assert.equal(s.state, "completed");
        });

        it("gets a finished task", async () => {
          const got = await door.get(first.taskId);
          assert.deepEqual(got, first);
        });

        it("cancels a running turn: the stream and the task end canceled", async () => {
          upstream.setMode("slow");
          let canceled = "";
          // A pair the mcp-server has not cached: the slow upstream holds the turn at the tool.
          const to = {
            offline: { "v1.0": "CHF", "v0.3": "SEK" },
            gemini: { "v1.0": "NOK", "v0.3": "DKK" },
          };
          const s = await door.stream(
            `What is 100 USD in ${to[model][version]}?`,
            async (taskId) => {
              canceled = await door.cancel(taskId);
            },
          );
          upstream.setMode("ok");
          assert.equal(canceled, "canceled");
          assert.equal(s.state, "canceled");
          assert.equal((await door.get(s.taskId)).state, "canceled");
        });
      });
    }
  }

  it("a MCP server down: a failed task with the message /chat gives", async () => {
    const down = await startService("agent", {
      MCP_SERVER_URL: "http://127.0.0.1:9/mcp",
      MODEL_PROVIDER: "offline",
    });
    try {
      const chat = await fetch(`${down.url}/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "What is 100 USD in EUR?" }),
      });
      const { error } = (await chat.json()) as { error: { message: string } };
      for (const open of [v1Door, v03Door]) {
        const failed = await (await open(down.url)).send("What is 100 USD in EUR?");
        assert.equal(failed.state, "failed");
        assert.equal(failed.answer, error.message);
      }
    } finally {
      await down.stop();
    }
  });

  describe("ADK's RemoteA2AAgent", () => {
    it("delegates to the agent inside an ADK runner", async () => {
      const remote = new RemoteA2AAgent({
        name: "currency",
        description: "Converts currencies",
        // ADK TS reads the card at this URL's /.well-known/agent-card.json.
        agentCard: agents.offline!.url,
      });
      const root = new LlmAgent({
        name: "root",
        model: new TransferringLlm(),
        instruction: "Hand currency questions to the currency agent.",
        subAgents: [remote],
      });
      const runner = new InMemoryRunner({ agent: root, appName: "adk-test" });
      const session = await runner.sessionService.createSession({
        appName: "adk-test",
        userId: "u",
      });
      const texts: string[] = [];
      const authors: string[] = [];
      for await (const event of runner.runAsync({
        userId: "u",
        sessionId: session.id,
        newMessage: { role: "user", parts: [{ text: "What is 100 USD in EUR?" }] },
      })) {
        authors.push(event.author ?? "");
        assert.equal(event.errorMessage, undefined);
        if (event.partial) continue;
        for (const p of event.content?.parts ?? []) if (p.text) texts.push(p.text);
      }
      assert.ok(authors.includes("currency"), authors.join(","));
      assert.ok(
        texts.some((t) => t.includes(`${EUR} EUR`)),
        texts.join(" | "),
      );
      // The tool call's status update is a partial event: never taken for the answer.
      assert.ok(!texts.includes("get_exchange_rate…"), texts.join(" | "));
    });
  });
});

/**
 * The ADK root agent's model, scripted: it hands the question to the sub-agent through the
 * transfer_to_agent tool ADK registers, as a model would. No network.
 */
class TransferringLlm extends BaseLlm {
  calls = 0;
  constructor() {
    super({ model: "scripted-transfer" });
  }
  async *generateContentAsync(req: LlmRequest): AsyncGenerator<LlmResponse, void> {
    if (++this.calls > 1) throw new Error("the root agent was asked again after transferring");
    assert.ok(req.toolsDict.transfer_to_agent, "ADK declares the transfer tool to the model");
    yield {
      content: {
        role: "model",
        parts: [{ functionCall: { name: "transfer_to_agent", args: { agentName: "currency" } } }],
      },
    };
  }
  async connect(): Promise<BaseLlmConnection> {
    throw new Error("live connections are not scripted");
  }
}
