/**
 * A subject made of printable ASCII only. Anything else (a zero-width space, a bidi control, a
 * Cyrillic "а") can make one name display as another, so the page asks before signing in as it.
 */
export function isPlainSubject(subject: string): boolean {
  return /^[\x20-\x7E]+$/.test(subject);
}

/** The subject with every character outside printable ASCII shown as its code point: `carol\u200B` → `carol<U+200B>`. */
export function unambiguousSubject(subject: string): string {
  let out = '';
  for (const char of subject) {
    out += /^[\x20-\x7E]$/.test(char) ? char : `<U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`;
  }
  return out;
}
