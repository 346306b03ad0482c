/**
 * How personal data (phone numbers, addresses, names, texts) is shown wherever it must be
 * mentioned: logs, ops tools. Plain functions, no logger: scripts use them too.
 */

/** `+8613800138000` → `+86138****8000`: enough to tell numbers apart, not to call one. */
export function maskPhone(phone: string): string {
  if (phone.length < 8) return '****';
  return `${phone.slice(0, 6)}****${phone.slice(-4)}`;
}

/**
 * Every phone-like run of digits (7 to 15, an optional `+`, not inside a word) in a text
 * masked as `maskPhone` masks a number: `… +8613800138000 is not valid` → `…
 * +86138****8000 is not valid`. For texts we did not write (errors from AWS, a provider,
 * a CSV).
 */
export const maskPhones = (text: string) =>
  // Not a run inside a word: random ids (`off_k7p2…`) may hold seven digits in a row.
  text.replace(/(?<![A-Za-z0-9_])\+?\d{7,15}(?![A-Za-z0-9_])/g, (n) =>
    n.length < 8 ? '****' : `${n.slice(0, n.length - 8)}****${n.slice(-4)}`,
  );

/** Personal free text (a name, an SMS) shown as its length: `<name 3 chars>`. */
export const maskLength =
  (what: string) =>
  (value: string): string =>
    `<${what} ${value.length} chars>`;

/** Addresses are never logged; their length is enough to debug a truncation. */
export const maskAddress = maskLength('address');
