import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import * as z from "zod";
import { csv, parseEnv } from "../../common/env.js";

/** The currency assistant's instruction, used when neither AGENT_INSTRUCTION setting is. */
export const DEFAULT_INSTRUCTION =
  "You are a currency assistant. Use the tools for every exchange rate, conversion, currency list or " +
  "rate history: never guess rates. Which currencies exist is what list_currencies says, not what you " +
  "remember; if a currency name is ambiguous (peso, dollar, dinar, …), ask which one is meant. Give the " +
  "numbers exactly as the tools return them, and say which date the rate is for and where it comes from " +
  "as the tool reports it. If a tool fails, say so plainly. For anything unrelated to currencies, say " +
  "briefly that you only help with exchange rates.";

const bool = z
  .string()
  .optional()
  .transform((s) => ["1", "true", "yes"].includes((s ?? "").trim().toLowerCase()));

/** Exactly "true" or "false". */
const trueOrFalse = () => z.stringbool({ truthy: ["true"], falsy: ["false"], case: "sensitive" });

// fetch refuses a URL with user:password@, so such a setting would fail every request later; and
// credentials in a URL end up wherever the URL is shown. Refused at start-up, by name, value unsaid.
const noCredentials = (url: string): boolean => {
  const u = URL.parse(url); // zod runs this on a value its URL check refused too
  return !u || (u.username === "" && u.password === "");
};
const CREDENTIALS =
  "must not carry credentials (user:password@); the agent authenticates otherwise";
const httpUrl = () => z.url({ protocol: /^https?$/ }).refine(noCredentials, CREDENTIALS);

const schema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  // Names the agent is reached by besides loopback ones (a tunnel, a proxy, a domain off Cloud
  // Run): Host is checked against them on loopback, and a browser's Origin everywhere.
  AGENT_ALLOWED_HOSTS: csv,
  APP_NAME: z
    .string()
    .regex(/^[\w.-]{1,64}$/)
    .default("currency-agent"),
  // The system instruction, inline or from a file; the currency assistant's when neither is set.
  AGENT_INSTRUCTION: z.string().optional(),
  AGENT_INSTRUCTION_FILE: z.string().optional(),
  MCP_SERVER_URL: httpUrl().default("http://127.0.0.1:8081/mcp"),
  MCP_TRANSPORT: z.enum(["auto", "sse", "streamable-http"]).default("auto"),
  MCP_AUTH: z.enum(["auto", "id-token", "none"]).default("auto"),
  MCP_AUDIENCE: z.string().optional(),
  // Longer than the mcp-server's own upstream timeout and retry (2 × 10 s), so its answer arrives first.
  MCP_TOOL_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  MODEL_PROVIDER: z.enum(["auto", "gemini", "offline"]).default("auto"),
  GOOGLE_GENAI_USE_VERTEXAI: bool,
  // The SDK's newer name for the same choice (Vertex AI is now Gemini Enterprise Agent Platform).
  GOOGLE_GENAI_USE_ENTERPRISE: bool,
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  // Gemini 3 models are served from the global endpoint; a Cloud Run region is a different setting.
  GOOGLE_CLOUD_LOCATION: z.string().min(1).default("global"),
  GOOGLE_API_KEY: z.string().optional(),
  // A stable Flash model with no announced shutdown, kept over 4 Hydrogen (a short-term GA) for
  // 2027: docs/decisions.md, "The default model for 2027".
  GOOGLE_MODEL: z.string().min(1).default("gemini-3.8-flash"),
  // LOW: a tool agent's steps are short, and Google suggests low levels for latency-sensitive work.
  // "default" sends none and lets the model choose (MEDIUM on 3.8 Flash).
  GOOGLE_THINKING_LEVEL: z
    .enum(["minimal", "low", "medium", "high", "default"], {
      error: "must be one of minimal, low, medium, high, default",
    })
    .default("low"),
  // Unset by default, as Google advises for Gemini 3; set only to override the model's defaults.
  GOOGLE_TEMPERATURE: z.coerce.number().min(0).max(2).optional(),
  GOOGLE_TOP_P: z.coerce.number().min(0).max(1).optional(),
  GOOGLE_TOP_K: z.coerce.number().int().positive().optional(),
  GOOGLE_GEMINI_BASE_URL: httpUrl().optional(),
  GOOGLE_VERTEX_BASE_URL: httpUrl().optional(),
  SESSION_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
  SESSION_MAX: z.coerce.number().int().positive().default(10_000),
  SESSION_MAX_MESSAGES: z.coerce.number().int().min(2).default(40),
  // Who owns a conversation (see identity/index.ts). `public` by default so `make up` works without a
  // token; `make deploy` sets `private` (Cloud Run IAM) or `iap`.
  AGENT_ACCESS: z.enum(["private", "iap", "public"]).default("public"),
  // A2A (the card and /a2a) is on unless "false"; its URL is taken from each request unless set.
  A2A_ENABLED: trueOrFalse().default(true),
  A2A_PUBLIC_URL: httpUrl().optional(),
  IAP_AUDIENCE: z.string().optional(),
  IAP_KEYS_URL: httpUrl().default("https://www.gstatic.com/iap/verify/public_key-jwk"),
  SESSION_STORE: z.enum(["memory", "firestore"]).default("memory"),
  // JSON bytes per conversation; Firestore holds at most ~1 MB in one document.
  SESSION_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1_000_000)
    .default(256 * 1024),
  // Memory store only: all conversations together; least recently used go first. Unset: a quarter of
  // the heap, at most 128 MiB (see MEMORY_DEFAULTS).
  SESSION_MEMORY_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .optional(),
  // Firestore store only: an instance that dies mid-turn blocks its session at most this long.
  SESSION_LEASE_SECONDS: z.coerce.number().min(1).max(600).default(30),
  FIRESTORE_DATABASE: z
    .string()
    .regex(/^(\(default\)|[a-z][a-z0-9-]{2,62})$/, "must be (default) or a database id")
    .default("(default)"),
  FIRESTORE_COLLECTION: z
    .string()
    .regex(/^[^/]{1,1500}$/, "must be a collection id (no /)")
    .default("agent-sessions"),
  // Read by the Firestore client itself; declared here so a bad value stops start-up with its name.
  // The client library's own switch between REST (HTTP/1.1) and gRPC; unset = our measured default.
  FIRESTORE_PREFER_REST: trueOrFalse().optional(),
  FIRESTORE_EMULATOR_HOST: z
    .string()
    .regex(/^[\w.-]+:\d+$|^\[[\d:a-fA-F]+\]:\d+$/, "must be host:port")
    .optional(),
});

type Parsed = z.infer<typeof schema>;
export type Transport = "sse" | "streamable-http";

/** The system instruction, and what GET / and the start-up line say about it instead of its text. */
export interface Instruction {
  text: string;
  /** `default`, `AGENT_INSTRUCTION`, or the file name of AGENT_INSTRUCTION_FILE (not its path). */
  source: string;
  /** The first 8 hex digits of the text's SHA-256: `sha256sum FILE | cut -c1-8` gives the same. */
  fingerprint: string;
  /** Characters (code points), as `wc -m` counts them. */
  chars: number;
}

export type Config = Readonly<
  Parsed & {
    instruction: Instruction;
    transport: Transport;
    useIdToken: boolean;
    audience: string;
    model: "gemini" | "offline";
    vertex: boolean;
    /** The environment it was parsed from: tracing reads the standard OTEL_* settings there. */
    env: Readonly<Record<string, string | undefined>>;
  }
>;

/** Every variable the schema reads; make deploy carries or refuses each (scripts/deploy-env.sh). */
export const SETTING_NAMES: readonly string[] = Object.keys(schema.shape);

/** Parses the environment once; a bad variable stops start-up with a message naming it. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const c = parseEnv(schema, env);
  const url = new URL(c.MCP_SERVER_URL);
  let transport: Transport;
  if (c.MCP_TRANSPORT !== "auto") transport = c.MCP_TRANSPORT;
  else if (/\/sse\/?$/.test(url.pathname)) transport = "sse";
  else if (/\/mcp\/?$/.test(url.pathname)) transport = "streamable-http";
  else
    throw new Error(
      "Invalid configuration: MCP_TRANSPORT: cannot tell the transport from MCP_SERVER_URL (path /sse or /mcp); set MCP_TRANSPORT=sse or streamable-http",
    );

  const vertex = c.GOOGLE_GENAI_USE_VERTEXAI || c.GOOGLE_GENAI_USE_ENTERPRISE;
  const geminiReady = vertex ? Boolean(c.GOOGLE_CLOUD_PROJECT) : Boolean(c.GOOGLE_API_KEY);
  if (c.MODEL_PROVIDER === "gemini" && !geminiReady) {
    throw new Error(
      "Invalid configuration: MODEL_PROVIDER=gemini needs GOOGLE_API_KEY, or GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT",
    );
  }
  if (c.AGENT_ACCESS === "iap" && !c.IAP_AUDIENCE) {
    throw new Error(
      "Invalid configuration: IAP_AUDIENCE: is required when AGENT_ACCESS=iap (the signed header's audience, /projects/PROJECT_NUMBER/locations/REGION/services/SERVICE)",
    );
  }
  return Object.freeze({
    ...c,
    instruction: Object.freeze(loadInstruction(c)),
    env: Object.freeze({ ...env }),
    transport,
    vertex,
    useIdToken: c.MCP_AUTH === "id-token" || (c.MCP_AUTH === "auto" && url.protocol === "https:"),
    audience: c.MCP_AUDIENCE ?? url.origin,
    model:
      c.MODEL_PROVIDER === "offline" || (c.MODEL_PROVIDER === "auto" && !geminiReady)
        ? "offline"
        : "gemini",
  });
}

/**
 * The instruction from AGENT_INSTRUCTION or AGENT_INSTRUCTION_FILE (read once, here, so that a file
 * that cannot be read stops start-up with one line naming the setting), or the default. Both set is
 * refused rather than one silently winning; a blank one would leave the model with no instruction.
 */
function loadInstruction(c: Parsed): Instruction {
  const file = c.AGENT_INSTRUCTION_FILE;
  if (c.AGENT_INSTRUCTION !== undefined && file !== undefined) {
    throw new Error(
      "Invalid configuration: AGENT_INSTRUCTION_FILE: cannot be combined with AGENT_INSTRUCTION; set one of them",
    );
  }
  let text = c.AGENT_INSTRUCTION ?? DEFAULT_INSTRUCTION;
  let source = c.AGENT_INSTRUCTION === undefined ? "default" : "AGENT_INSTRUCTION";
  if (file !== undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      // Node's message is one line with the code and the path: "ENOENT: no such file …, open 'x'".
      throw new Error(
        `Invalid configuration: AGENT_INSTRUCTION_FILE: cannot be read (${(err as Error).message})`,
      );
    }
    source = basename(file);
  }
  if (text.trim() === "") {
    const setting = file === undefined ? "AGENT_INSTRUCTION" : "AGENT_INSTRUCTION_FILE";
    const what = file === undefined ? "is blank" : `${file} is empty`;
    throw new Error(
      `Invalid configuration: ${setting}: ${what}; write the instruction there, or unset it for the default`,
    );
  }
  const fingerprint = createHash("sha256").update(text).digest("hex").slice(0, 8);
  return { text, source, fingerprint, chars: [...text].length };
}
