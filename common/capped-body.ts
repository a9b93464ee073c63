// A response body read within a bound in bytes: an outside server decides how much it sends, and
// what is over the bound is cancelled, never buffered. The time bound is the fetch's signal.

/** A body over `max` bytes, declared or counted: the sender's fault. */
export class BodyTooLarge extends Error {
  constructor(readonly max: number) {
    super(`body over ${max} bytes`);
    this.name = "BodyTooLarge";
  }
}

/** Up to `max` bytes; more throws BodyTooLarge, or with `truncate` (an error's body) is cut. */
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
