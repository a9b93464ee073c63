// One contract for every session store, run against the memory store and against Firestore (the real
// emulator), plus what only one of them has: the memory store's byte bound, Firestore's lease.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { silentLogger } from "../../common/log.js";
import type { Content } from "../src/models/types.js";
import {
  createFirestoreStore,
  documentId,
  type FirestoreSessionStore,
  type FirestoreStoreOptions,
} from "../src/sessions/firestore.js";
import { AppError } from "../src/errors.js";
import { loadConfig } from "../src/config.js";
import { createStore } from "../src/agent.js";
import { MemorySessionStore, type SessionKey, type SessionStore } from "../src/sessions/index.js";
import {
  hasGcloud,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../../test/support/firestore-emulator.js";

const user = (t: string): Content => ({ role: "user", parts: [{ text: t }] });
const model = (t: string): Content => ({ role: "model", parts: [{ text: t }] });
const exchange = (n: number, pad = ""): Content[] => [user(`q${n}${pad}`), model(`a${n}`)];
const key = (sessionId: string, userId = "u", app = "app"): SessionKey => ({
  app,
  userId,
  sessionId,
});

interface StoreOpts {
  ttlMs?: number;
  maxMessages?: number;
  maxBytes?: number;
  now?: () => number;
}
type Factory = (o?: StoreOpts) => Promise<SessionStore>;

// Without gcloud the Firestore half cannot run: in CI that is a failure, elsewhere a visible skip.
const gcloud = hasGcloud();
if (!gcloud && process.env.CI)
  throw new Error(
    "gcloud (with the Firestore emulator) is not installed: the Firestore store tests cannot run",
  );
const skipFirestore = gcloud
  ? false
  : "gcloud is not installed: no Firestore emulator (see docs/development.md, Tests)";

let emulator: FirestoreEmulator | undefined;
const stores: SessionStore[] = [];
before(async () => {
  if (!gcloud) return;
  emulator = await startFirestoreEmulator();
  process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
});
after(async () => {
  await Promise.all(stores.map((s) => s.close?.()));
  await emulator?.stop();
  delete process.env.FIRESTORE_EMULATOR_HOST;
});

// Each Firestore store gets its own collection, so tests never see each other's documents.
async function firestore(
  o: StoreOpts & Partial<FirestoreStoreOptions> = {},
  collection = `t-${randomUUID()}`,
): Promise<FirestoreSessionStore> {
  const s = await createFirestoreStore({
    projectId: "demo-sessions",
    databaseId: "(default)",
    collection,
    ttlMs: 60_000,
    maxMessages: 40,
    maxBytes: 256 * 1024,
    leaseMs: 5_000,
    logger: silentLogger,
    ...o,
  });
  stores.push(s);
  return s;
}

const factories: Array<[string, Factory, false | string]> = [
  [
    "memory",
    async (o = {}) =>
      new MemorySessionStore({
        ttlMs: o.ttlMs ?? 60_000,
        maxSessions: 100,
        maxMessages: o.maxMessages ?? 40,
        maxSessionBytes: o.maxBytes,
        now: o.now,
      }),
    false,
  ],
  ["firestore", (o = {}) => firestore(o), skipFirestore],
];

for (const [name, make, skip] of factories) {
  describe(`session store contract: ${name}`, { skip }, () => {
    it("loads nothing for a new session and what was saved for an old one, every field kept", async () => {
      const store = await make();
      assert.deepEqual(await store.load(key("new")), []);
      // Opaque JSON: thought signatures, call ids, fields this code has never heard of.
      const history = [
        user("What is 100 USD in EUR?"),
        {
          role: "model",
          parts: [
            {
              functionCall: {
                id: "c1",
                name: "get_exchange_rate",
                args: { amount: 100, nested: [[1, 2], { x: null }] },
              },
              thoughtSignature: "c2ln\u00e9==",
              future: { a: [1] },
            },
          ],
        },
        {
          role: "user",
          parts: [
            {
              functionResponse: {
                id: "c1",
                name: "get_exchange_rate",
                response: { output: { rates: { EUR: 92.2 } } },
              },
            },
          ],
        },
        {
          role: "model",
          parts: [{ text: "thinking", thought: true }, { text: "100 USD is 92.2 EUR 💶" }],
        },
      ] as unknown as Content[];
      await store.save(key("s"), history);
      assert.deepEqual(await store.load(key("s")), history);
      await store.withSession(key("s"), async (s) => {
        assert.deepEqual(await s.load(), history);
        await s.save([...history, ...exchange(2)]);
      });
      assert.deepEqual(await store.load(key("s")), [...history, ...exchange(2)]);
    });

    it("keeps users apart: the same session id, or ids that would collide when joined, are different sessions", async () => {
      const store = await make();
      await store.save(key("my-session", "alice"), exchange(1));
      await store.save(key("my-session", "bob"), exchange(2));
      await store.save(key("b:c", "a"), exchange(3));
      await store.save(key("c", "a:b"), exchange(4));
      await store.save(key("my-session", "alice", "other-app"), exchange(5));
      assert.deepEqual(await store.load(key("my-session", "alice")), exchange(1));
      assert.deepEqual(await store.load(key("my-session", "bob")), exchange(2));
      assert.deepEqual(await store.load(key("b:c", "a")), exchange(3));
      assert.deepEqual(await store.load(key("c", "a:b")), exchange(4));
      assert.deepEqual(await store.load(key("my-session", "alice", "other-app")), exchange(5));
    });

    it("forgets a session idle for longer than the TTL", async () => {
      let now = Date.now();
      const store = await make({ ttlMs: 1_000, now: () => now });
      await store.save(key("s"), exchange(1));
      now += 900;
      assert.deepEqual(await store.load(key("s")), exchange(1));
      now += 1_200;
      assert.deepEqual(await store.load(key("s")), []);
      // A turn on an expired session starts afresh.
      await store.withSession(key("s"), async (s) => {
        assert.deepEqual(await s.load(), []);
        await s.save(exchange(2));
      });
      assert.deepEqual(await store.load(key("s")), exchange(2));
    });

    it("trims the oldest whole exchanges to the message bound, starting at a user's words", async () => {
      const store = await make({ maxMessages: 5 });
      const call: Content = { role: "model", parts: [{ functionCall: { name: "t", args: {} } }] };
      const resp: Content = {
        role: "user",
        parts: [{ functionResponse: { name: "t", response: {} } }],
      };
      await store.save(key("s"), [
        user("q1"),
        call,
        resp,
        model("a1"),
        user("q2"),
        call,
        resp,
        model("a2"),
      ]);
      assert.deepEqual(await store.load(key("s")), [user("q2"), call, resp, model("a2")]);
    });

    it("trims the oldest whole exchanges to the byte bound", async () => {
      const store = await make({ maxBytes: 4_096 });
      const pad = "x".repeat(1_000);
      let history: Content[] = [];
      for (let n = 1; n <= 8; n++) {
        history = [...(await store.load(key("s"))), ...exchange(n, pad)];
        await store.save(key("s"), history);
      }
      const kept = await store.load(key("s"));
      assert.ok(JSON.stringify(kept).length <= 4_096, `kept ${JSON.stringify(kept).length} bytes`);
      assert.deepEqual(
        kept,
        [6, 7, 8].flatMap((n) => exchange(n, pad)),
        "the newest exchanges that fit (three of ~1.1 KB)",
      );
    });

    it("refuses one turn larger than the bound whole, and keeps the history as it was", async () => {
      const store = await make({ maxBytes: 4_096 });
      await store.save(key("s"), exchange(1));
      await assert.rejects(
        store.withSession(key("s"), async (s) =>
          s.save([...(await s.load()), user("big"), model("y".repeat(5_000))]),
        ),
        (e: unknown) =>
          e instanceof AppError &&
          e.code === "turn_too_large" &&
          e.status === 413 &&
          /not saved/.test(e.publicMessage),
      );
      assert.deepEqual(await store.load(key("s")), exchange(1));
      // The session is not left held: the next turn goes through.
      await store.save(key("s"), [...exchange(1), ...exchange(2)]);
      assert.equal((await store.load(key("s"))).length, 4);
    });

    it("serialises concurrent turns on one session: each sees the one before, none is lost", async () => {
      const store = await make();
      const turns = Array.from({ length: 8 }, (_, n) =>
        store.withSession(key("busy"), async (s) => {
          const history = await s.load();
          await new Promise((r) => setTimeout(r, 5));
          await s.save([...history, ...exchange(n)]);
          return history.length;
        }),
      );
      const seen = await Promise.all(turns);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        [0, 2, 4, 6, 8, 10, 12, 14],
        "each turn saw all earlier ones",
      );
      const saved = await store.load(key("busy"));
      assert.equal(saved.length, 16);
      assert.deepEqual(
        new Set(
          saved.filter((c) => c.role === "user").map((c) => (c.parts[0] as { text: string }).text),
        ).size,
        8,
      );
    });

    it("does not save a turn that failed, and lets the next one run", async () => {
      const store = await make();
      await assert.rejects(
        store.withSession(key("f"), async () => Promise.reject(new Error("model down"))),
        /model down/,
      );
      assert.deepEqual(await store.load(key("f")), []);
      assert.equal(await store.withSession(key("f"), async (s) => (await s.load()).length), 0);
    });
  });
}

describe("memory store: bounded by bytes", () => {
  it("evicts least recently used whole sessions past the total, keeps the recent ones intact", async () => {
    const store = new MemorySessionStore({
      ttlMs: 60_000,
      maxSessions: 10_000,
      maxMessages: 40,
      maxSessionBytes: 64 * 1024,
      maxTotalBytes: 1024 * 1024,
    });
    const pad = "m".repeat(8_000);
    for (let s = 0; s < 100; s++)
      await store.save(key(`s${s}`), [...exchange(1, pad), ...exchange(2, pad)]);
    assert.ok(store.bytes <= 1024 * 1024, `${store.bytes} bytes held`);
    assert.ok(store.size < 100 && store.size > 40, `${store.size} sessions held`);
    assert.deepEqual(await store.load(key("s0")), [], "the oldest went");
    assert.deepEqual(
      await store.load(key("s99")),
      [...exchange(1, pad), ...exchange(2, pad)],
      "the newest is whole",
    );
  });

  it("takes SESSION_MEMORY_MAX_BYTES when it is set, whatever the heap", async () => {
    const store = (await createStore(
      loadConfig({ SESSION_MEMORY_MAX_BYTES: String(1024 * 1024) }),
      silentLogger,
    )) as MemorySessionStore;
    const pad = "m".repeat(8_000);
    for (let s = 0; s < 200; s++) await store.save(key(`s${s}`), exchange(1, pad));
    assert.ok(store.bytes <= 1024 * 1024, `${store.bytes} bytes held`);
    await store.close();
  });

  it("counts non-Latin-1 text at two bytes a character, as V8 holds it", async () => {
    const a = new MemorySessionStore({ ttlMs: 60_000, maxSessions: 10, maxMessages: 40 });
    const b = new MemorySessionStore({ ttlMs: 60_000, maxSessions: 10, maxMessages: 40 });
    await a.save(key("s"), [user("a".repeat(10_000))]);
    await b.save(key("s"), [user("€".repeat(10_000))]);
    assert.ok(b.bytes - a.bytes >= 9_000, `${a.bytes} vs ${b.bytes}`);
  });

  it("a recently read session counts as used", async () => {
    const store = new MemorySessionStore({ ttlMs: 60_000, maxSessions: 2, maxMessages: 40 });
    await store.save(key("a"), exchange(1));
    await store.save(key("b"), exchange(2));
    await store.load(key("a"));
    await store.save(key("c"), exchange(3));
    assert.deepEqual(await store.load(key("b")), []);
    assert.deepEqual(await store.load(key("a")), exchange(1));
  });
});

describe("firestore store: leases and failures", { skip: skipFirestore }, () => {
  it("two instances of the store take turns on one session, none lost", async () => {
    const collection = `t-${randomUUID()}`;
    const [a, b] = [await firestore({}, collection), await firestore({}, collection)];
    await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        (n % 2 ? a : b).withSession(key("shared"), async (s) => {
          const h = await s.load();
          await new Promise((r) => setTimeout(r, 10));
          await s.save([...h, ...exchange(n)]);
        }),
      ),
    );
    const saved = await a.load(key("shared"));
    assert.equal(saved.length, 20);
    assert.equal(
      new Set(saved.filter((c) => c.role === "user").map((c) => JSON.stringify(c))).size,
      10,
    );
  });

  it("a holder that never comes back blocks the session only until its lease ends", async () => {
    const collection = `t-${randomUUID()}`;
    const live = await firestore({ leaseMs: 1_500 }, collection);
    await live.save(key("s"), exchange(1));
    // What an instance SIGKILLed mid-turn leaves behind: its lease, never renewed nor released.
    const until = Date.now() + 1_500;
    const doc = `http://${emulator!.host}/v1/projects/demo-sessions/databases/(default)/documents/${collection}/${documentId(key("s"))}`;
    const res = await fetch(`${doc}?updateMask.fieldPaths=lease`, {
      method: "PATCH",
      headers: { authorization: "Bearer owner", "content-type": "application/json" },
      body: JSON.stringify({
        fields: {
          lease: {
            mapValue: {
              fields: { holder: { stringValue: "dead" }, until: { integerValue: String(until) } },
            },
          },
        },
      }),
    });
    assert.equal(res.status, 200, await res.text());
    await live.withSession(key("s"), async (s) => s.save([...(await s.load()), ...exchange(2)]));
    assert.ok(Date.now() >= until, "the lease was respected");
    assert.deepEqual(await live.load(key("s")), [...exchange(1), ...exchange(2)]);
  });

  it("a turn that outlived its lease is not saved, and says so, leaving the newer history", async () => {
    const collection = `t-${randomUUID()}`;
    const slow = await firestore({ leaseMs: 60_000, ttlMs: 3_600_000 }, collection);
    const fast = await firestore(
      { leaseMs: 60_000, ttlMs: 3_600_000, now: () => Date.now() + 120_000 },
      collection,
    ); // sees the lease as expired
    await slow.save(key("s"), exchange(1));
    await assert.rejects(
      slow.withSession(key("s"), async (s) => {
        const h = await s.load();
        await fast.withSession(key("s"), async (f) =>
          f.save([...(await f.load()), ...exchange(2)]),
        );
        await s.save([...h, ...exchange(3)]);
      }),
      (e: unknown) => e instanceof AppError && e.status === 503 && /again/.test(e.publicMessage),
    );
    assert.deepEqual(await slow.load(key("s")), [...exchange(1), ...exchange(2)]);
  });

  it("never saves later a turn answered 503 while Firestore stalled, even once it answers", async () => {
    const store = await firestore({ opTimeoutMs: 1_000, leaseMs: 60_000 });
    await store.save(key("s"), exchange(1));
    try {
      await assert.rejects(
        store.withSession(key("s"), async (s) => {
          const h = await s.load();
          emulator!.pause();
          await s.save([...h, ...exchange(2)]);
        }),
        (e: unknown) => e instanceof AppError && e.status === 503,
      );
    } finally {
      emulator!.resume();
    }
    // The client retries; the stalled save's requests are answered meanwhile, in any order.
    await store.withSession(key("s"), async (s) => s.save([...(await s.load()), ...exchange(3)]));
    await new Promise((r) => setTimeout(r, 2_000));
    assert.deepEqual(await store.load(key("s")), [...exchange(1), ...exchange(3)]);
  });

  it("without Google credentials answers at once with a 503 that says so (no hanging call)", async () => {
    const saved = { ...process.env };
    delete process.env.FIRESTORE_EMULATOR_HOST;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.CLOUDSDK_CONFIG = "/nonexistent"; // no gcloud application-default login either
    process.env.METADATA_SERVER_DETECTION = "none"; // and no metadata server: not on Google Cloud
    try {
      const store = await firestore({ opTimeoutMs: 60_000 });
      const started = Date.now();
      await assert.rejects(
        store.withSession(key("s"), async () => "never"),
        (e: unknown) =>
          e instanceof AppError &&
          e.status === 503 &&
          /Firestore/.test(e.publicMessage) &&
          /credentials/.test(e.publicMessage),
      );
      assert.ok(Date.now() - started < 30_000, "before the call deadline");
    } finally {
      process.env = saved;
    }
  });
});
