// Shared by both services: a response body read with a bound in bytes. An outside server decides
// how much it sends (a 200 MB Frankfurter answer once took the mcp-server to 1.5 GB; a 300 MB
// discovery document took down one with a 128 MB heap): what is over the bound is cancelled, never
// buffered. The time bound is the caller's: the signal given to fetch aborts the body's stream too.

/** A body over `max` bytes (declared, or counted while reading): the sender's fault, not ours. */
export class BodyTooLarge extends Error {
  constructor(readonly max: number) {
    super(`body over ${max} bytes`);
    this.name = "BodyTooLarge";
  }
}

/**
 * Reads a body up to `max` bytes; a larger one is cancelled and throws BodyTooLarge, or with
 * `truncate` (an error's body, read only for its message) is cut at `max`.
 */
export async function readCapped(res: Response, max: number, truncate = false): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (declared > max && !truncate) {
    await res.body?.cancel().catch(() => undefined);
    throw new BodyTooLarge(max);
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      if (!truncate) throw new BodyTooLarge(max);
      return text + decoder.decode(value.subarray(0, value.byteLength - (size - max)));
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
