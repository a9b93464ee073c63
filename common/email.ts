/**
 * An email address as allow-lists and owners compare it: A-Z lowercased, nothing else, as issuers
 * do (toLowerCase would fold U+212A KELVIN SIGN to "k" and let "\u212Aate@…" own "kate@…"'s).
 */
export function emailKey(address: string): string {
  return address.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
