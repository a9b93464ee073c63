// The model the turn drives: Gemini when credentials are set, else the offline model.
import type { Config } from "../config.js";
import { OfflineModel } from "./offline.js";
import type { Model } from "./types.js";

export type { Model } from "./types.js";

export async function createModel(config: Config): Promise<Model> {
  if (config.model === "offline") return new OfflineModel();
  // Loaded only when used: @google/genai and its auth stack cost start-up time and memory the
  // offline model does not need (esbuild keeps a dynamic import lazy inside the single bundle).
  const { GeminiModel } = await import("./gemini.js");
  const level = config.GOOGLE_THINKING_LEVEL;
  return new GeminiModel({
    model: config.GOOGLE_MODEL,
    apiKey: config.vertex ? undefined : config.GOOGLE_API_KEY,
    vertexai: config.vertex
      ? { project: config.GOOGLE_CLOUD_PROJECT ?? "", location: config.GOOGLE_CLOUD_LOCATION }
      : undefined,
    baseUrl: config.vertex ? config.GOOGLE_VERTEX_BASE_URL : config.GOOGLE_GEMINI_BASE_URL,
    thinkingLevel: level === "default" ? undefined : (level.toUpperCase() as "LOW"),
    sampling: {
      temperature: config.GOOGLE_TEMPERATURE,
      topP: config.GOOGLE_TOP_P,
      topK: config.GOOGLE_TOP_K,
    },
  });
}
