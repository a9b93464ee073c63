// The Google ID-token verifier's outcome as a value, for suites that compare many of them.
import { createIdTokenVerifier, type IdTokenVerifierOptions } from "../../src/auth.js";
import { ServiceError } from "../../src/errors.js";

export type Verdict =
  | { ok: true; email: string | undefined; subject: string | undefined }
  | { ok: false; status: number; error: string | number; description: string };

/** createIdTokenVerifier, resolving to whom the token names or to the refusal it throws. */
export function idTokenVerdicts(
  opts: IdTokenVerifierOptions,
): (authorization?: string) => Promise<Verdict> {
  const verify = createIdTokenVerifier(opts);
  return (authorization) =>
    verify(authorization).then(
      (who) => ({ ok: true, ...who }),
      (err: unknown) => {
        if (!(err instanceof ServiceError)) throw err;
        const { status, code: error, publicMessage: description } = err;
        return { ok: false, status, error, description };
      },
    );
}
