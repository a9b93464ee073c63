// Conversations in Firestore, shared by every agent instance. Imported only when
// SESSION_STORE=firestore, so the memory-store agent never evaluates the client library.
import { createHash, randomUUID } from "node:crypto";
import type { DocumentData, DocumentReference, Firestore } from "@google-cloud/firestore";
import { GoogleAuth, OAuth2Client } from "google-auth-library";
import { loadFirestore, type FirestoreLib } from "./firestore-lib.js";
import type { Logger } from "../../../common/log.js";
import { AppError } from "../errors.js";
import type { Content } from "../models/types.js";
import {
  fitHistory,
  KeyedMutex,
  keyOf,
  type Bounds,
  type SessionHandle,
  type SessionKey,
  type SessionStore,
} from "./index.js";

/** Firestore's document limit is 1 MiB; the history string stays under it with room for the other fields. */
export const FIRESTORE_MAX_HISTORY_BYTES = 1_000_000;

const PREFER_REST_DEFAULT = true;

/** A hash of the JSON triple: ids that would collide when joined ("a:b"+"c", "a"+"b:c") cannot. */
export const documentId = (key: SessionKey): string =>
  createHash("sha256").update(keyOf(key)).digest("hex");

/** The ids a document is stored under, readable in the console beside its hashed id. */
const idFields = (key: SessionKey) => ({
  app: key.app,
  user_id: key.userId,
  session_id: key.sessionId,
});

const notSaved = (): AppError =>
  new AppError(
    503,
    "turn_not_saved",
    "This turn took too long and was not saved to the conversation; send the message again",
  );

/** Loads the client library (see firestore-lib.ts), then builds the store. */
export async function createFirestoreStore(
  opts: FirestoreStoreOptions,
): Promise<FirestoreSessionStore> {
  return new FirestoreSessionStore(await loadFirestore(), opts);
}

function emulatorAuth(): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: "owner", expiry_date: Number.MAX_SAFE_INTEGER });
  return auth;
}

export interface FirestoreStoreOptions {
  projectId?: string | undefined;
  databaseId: string;
  collection: string;
  ttlMs: number;
  maxMessages: number;
  maxBytes: number;
  /** How long a turn holds its session without renewing; an instance that dies blocks it at most this. */
  leaseMs: number;
  /** How long a turn waits for the session before giving up with 503. */
  maxWaitMs?: number;
  /** Deadline for each Firestore call; past it the turn fails with 503 instead of hanging. */
  opTimeoutMs?: number;
  preferRest?: boolean;
  logger: Logger;
  now?: () => number;
}

interface Lease {
  holder: string;
  until: number;
}

/**
 * One document per conversation: `history` (the JSON string), `expire_at` (the TTL policy) and `lease`
 * ({holder, until}), which orders turns across instances. A turn takes the lease, renews it while it
 * runs, and saves and drops it in one transaction; the save is refused (503, nothing written) unless
 * the lease is still its own and live and the turn was not given up, so a turn the client saw fail is
 * never stored later. Lease times use the instances' clocks, which Cloud Run keeps in sync.
 */
export class FirestoreSessionStore implements SessionStore {
  readonly kind = "firestore";
  readonly #db: Firestore;
  readonly #local = new KeyedMutex();
  readonly #now: () => number;
  readonly #bounds: Bounds;
  readonly #maxWait: number;
  readonly #opTimeout: number;
  readonly #lib: FirestoreLib;
  readonly #emulator: boolean;
  #credentials: Promise<unknown> | undefined;

  constructor(
    lib: FirestoreLib,
    private readonly opts: FirestoreStoreOptions,
  ) {
    this.#lib = lib;
    this.#now = opts.now ?? Date.now;
    this.#bounds = {
      maxMessages: opts.maxMessages,
      maxBytes: Math.min(opts.maxBytes, FIRESTORE_MAX_HISTORY_BYTES),
    };
    this.#maxWait = opts.maxWaitMs ?? 300_000;
    this.#opTimeout = opts.opTimeoutMs ?? 10_000;
    // FIRESTORE_EMULATOR_HOST is read by the library itself, as in every Google client.
    const preferRest = opts.preferRest ?? PREFER_REST_DEFAULT;
    const emulator = Boolean(process.env.FIRESTORE_EMULATOR_HOST);
    this.#emulator = emulator;
    this.#db = new lib.Firestore({
      ...(opts.projectId ? { projectId: opts.projectId } : {}),
      databaseId: opts.databaseId,
      preferRest,
      // The REST transport asks for Google credentials even for the emulator, which takes none
      // (googleapis/nodejs-firestore#1811, open): give it the emulator's fixed "owner" token.
      ...(preferRest && emulator ? { authClient: emulatorAuth() } : {}),
    });
  }

  #ref(key: SessionKey): DocumentReference {
    return this.#db.collection(this.opts.collection).doc(documentId(key));
  }

  #historyOf(d: DocumentData | undefined): Content[] {
    if (!d || typeof d.history !== "string") return [];
    if (d.expire_at instanceof this.#lib.Timestamp && d.expire_at.toMillis() <= this.#now())
      return []; // TTL deletion lags
    return JSON.parse(d.history) as Content[];
  }

  async load(key: SessionKey): Promise<Content[]> {
    const snap = await this.#call("read a conversation", () => this.#ref(key).get());
    return this.#historyOf(snap.data());
  }

  save(key: SessionKey, history: readonly Content[]): Promise<void> {
    return this.withSession(key, (s) => s.save(history));
  }

  withSession<T>(
    key: SessionKey,
    fn: (session: SessionHandle) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    // One waiter per session per instance; the lease orders instances.
    return this.#local.run(keyOf(key), async () => {
      const ref = this.#ref(key);
      const token = randomUUID();
      const history = await this.#acquire(ref, key, token, signal);
      const renew = () => ({ "lease.until": this.#now() + this.opts.leaseMs });
      const renewal = setInterval(
        () => void this.#ifLeaseHolder(ref, token, "renew", renew()),
        Math.max(50, Math.floor(this.opts.leaseMs / 3)),
      );
      renewal.unref();
      let released = false;
      try {
        return await fn({
          load: async () => history,
          save: async (h) => {
            await this.#commit(ref, key, token, h, signal);
            released = true;
          },
        });
      } finally {
        clearInterval(renewal);
        const release = { lease: this.#lib.FieldValue.delete() };
        if (!released) await this.#ifLeaseHolder(ref, token, "release", release);
      }
    });
  }

  async #acquire(
    ref: DocumentReference,
    key: SessionKey,
    token: string,
    signal?: AbortSignal,
  ): Promise<Content[]> {
    const started = this.#now();
    let delay = 25;
    for (;;) {
      signal?.throwIfAborted();
      const got = await this.#call("open a conversation", () =>
        this.#db.runTransaction(async (tx) => {
          const snap = await tx.get(ref);
          const d = snap.data();
          const lease = d?.lease as Lease | undefined;
          const now = this.#now();
          if (lease && lease.holder !== token && lease.until > now)
            return { busyUntil: lease.until, history: null };
          tx.set(
            ref,
            {
              ...idFields(key),
              lease: { holder: token, until: now + this.opts.leaseMs },
              // A session that is only ever opened (every turn failed) still expires.
              ...(d?.expire_at instanceof this.#lib.Timestamp && d.expire_at.toMillis() > now
                ? {}
                : { expire_at: this.#lib.Timestamp.fromMillis(now + this.opts.ttlMs) }),
            },
            { merge: true },
          );
          return { busyUntil: 0, history: this.#historyOf(d) };
        }),
      );
      if (got.history) return got.history;
      if (this.#now() - started > this.#maxWait) {
        throw new AppError(
          503,
          "session_busy",
          "Another turn on this conversation is still running; send the message again in a moment",
        );
      }
      // Poll with backoff and jitter, never past the holder's expiry.
      const wait = Math.min(delay, Math.max(10, got.busyUntil - this.#now()));
      await new Promise((r) => setTimeout(r, wait * (0.75 + Math.random() / 2)));
      delay = Math.min(delay * 1.5, 500);
    }
  }

  async #commit(
    ref: DocumentReference,
    key: SessionKey,
    token: string,
    history: readonly Content[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const fitted = fitHistory(history, this.#bounds);
    const gaveUp = new AbortController();
    try {
      await this.#call("save a conversation", () =>
        this.#db.runTransaction(async (tx) => {
          const lease = (await tx.get(ref)).get("lease") as Lease | undefined;
          const now = this.#now();
          if (
            gaveUp.signal.aborted ||
            signal?.aborted ||
            lease?.holder !== token ||
            lease.until <= now
          )
            throw notSaved();
          tx.set(
            ref,
            {
              ...idFields(key),
              history: fitted.json,
              messages: fitted.history.length,
              updated_at: this.#lib.Timestamp.fromMillis(now),
              expire_at: this.#lib.Timestamp.fromMillis(now + this.opts.ttlMs),
              lease: this.#lib.FieldValue.delete(),
            },
            { merge: true },
          );
        }),
      );
    } catch (err) {
      if (err instanceof AppError && err.code === "turn_not_saved") {
        const why = "a turn was not saved: it was given up, or its session lease lapsed";
        this.opts.logger.log("WARNING", why, { document: ref.id });
      }
      throw err;
    } finally {
      // The transaction may still be running (its deadline passed): no later attempt may write.
      gaveUp.abort();
    }
  }

  /** Updates the document while `token` holds its lease; a failure is logged (a lease expires anyway). */
  async #ifLeaseHolder(
    ref: DocumentReference,
    token: string,
    what: "release" | "renew",
    update: Record<string, unknown>,
  ): Promise<void> {
    try {
      await this.#call(`${what} a session lease`, () =>
        this.#db.runTransaction(async (tx) => {
          const snap = await tx.get(ref);
          if ((snap.get("lease") as Lease | undefined)?.holder === token) tx.update(ref, update);
        }),
      );
    } catch (err) {
      this.opts.logger.log("WARNING", `could not ${what} a session lease; it expires on its own`, {
        document: ref.id,
        detail: (err as Error).message,
      });
    }
  }

  async check(): Promise<void> {
    await this.#call(
      "read",
      () => this.#db.collection(this.opts.collection).doc("_ready").get(),
      Math.min(this.#opTimeout, 5_000),
    );
  }

  async close(): Promise<void> {
    await this.#db.terminate();
  }

  /** Runs one Firestore call with a deadline, turning its failures into a 503 that says what to check. */
  async #call<T>(what: string, op: () => Promise<T>, timeoutMs = this.#opTimeout): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 4 })),
        timeoutMs,
      );
    });
    try {
      // Missing credentials surface inside the library as a rejection nobody awaits, and the call
      // hangs: look them up first (once it works), so the answer is prompt and says what is missing.
      if (!this.#emulator) {
        this.#credentials ??= new GoogleAuth({
          scopes: ["https://www.googleapis.com/auth/datastore"],
        })
          .getClient()
          .catch((err: unknown) => {
            this.#credentials = undefined;
            throw err;
          });
        await Promise.race([this.#credentials, deadline]);
      }
      return await Promise.race([op(), deadline]);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw this.#explain(what, err);
    } finally {
      clearTimeout(timer);
    }
  }

  #explain(what: string, err: unknown): AppError {
    const e = err as { code?: number | string; message?: string };
    const db = `Firestore database "${this.opts.databaseId}"`;
    const project = this.opts.projectId ? ` in project ${this.opts.projectId}` : "";
    const detail = `${what}: ${e.message ?? String(err)}`;
    const fail = (why: string): AppError =>
      new AppError(
        503,
        "session_store_unavailable",
        `The session store (Firestore) is unavailable: ${why}`,
        { detail },
      );
    if (/project id/i.test(e.message ?? ""))
      return fail("no Google Cloud project is known; set GOOGLE_CLOUD_PROJECT");
    if (/default credentials/i.test(e.message ?? "")) {
      return fail(
        "the agent has no Google credentials; on Cloud Run check its service account, locally run gcloud auth application-default login",
      );
    }
    const denied = `${db}${project} refused the agent's credentials; check that its service account has roles/datastore.user and that the Firestore API is enabled`;
    // gRPC codes: PERMISSION_DENIED, UNAUTHENTICATED, NOT_FOUND, FAILED_PRECONDITION (Datastore mode),
    // RESOURCE_EXHAUSTED.
    const why: Record<number, string> = {
      7: denied,
      16: denied,
      5: `${db} was not found${project}; create it in native mode or set FIRESTORE_DATABASE`,
      9: `${db}${project} cannot serve documents; it must be a Firestore database in native mode, not Datastore mode`,
      8: `${db}${project} is over its quota; try again shortly`,
    };
    return fail(
      why[Number(e.code)] ??
        `${db}${project} cannot be reached; check the network, that the Firestore API is enabled, and FIRESTORE_EMULATOR_HOST if you use the emulator`,
    );
  }
}
