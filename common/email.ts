// Shared by both services: the one way an email address is compared (allow-lists, owners).

/**
 * The address with A-Z lowercased and every other character as it is. String's toLowerCase folds
 * beyond ASCII (U+212A KELVIN SIGN becomes "k"), so "\u212Aey@example.com" would pass an allow-list
 * entry "key@example.com", and "\u212Aate@…" would own "kate@…"'s conversations. Issuers compare
 * addresses case-insensitively in ASCII only; so do we.
 */
export function emailKey(address: string): string {
  return address.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
