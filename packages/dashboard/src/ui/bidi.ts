/**
 * Bidirectional control characters: embeddings and overrides (U+202A–U+202E), isolates
 * (U+2066–U+2069) and marks (U+200E, U+200F, U+061C). In a value someone else wrote they can make
 * `Invoice \u202Egpj.exe` read "Invoice exe.jpg", or reverse the page's own text after the value.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

const POP_DIRECTIONAL_ISOLATE = '\u2069';
const ISOLATE_INITIATORS: ReadonlySet<string> = new Set(['\u2066', '\u2067', '\u2068']);
const OVERRIDES: ReadonlySet<string> = new Set(['\u202D', '\u202E']);

/**
 * The text without bidi controls: for plain text the page cannot isolate (browser notifications)
 * and for accessible names (`aria-label`: read in logical order, matched by voice control).
 */
export function withoutBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/**
 * The text as the page shows it inside an isolate (`<Isolated>`, `isolated()`):
 * - overrides (LRO U+202D, RLO U+202E) are dropped: they force characters into the opposite order,
 *   which no honest text needs and which is what makes "gpj.exe" read "exe.jpg";
 * - isolates are balanced: a PDI without an opener of its own is dropped, and an isolate left open
 *   is closed. Chromium isolates an element (`<bdi>`, `unicode-bidi: isolate`) with an isolate pair
 *   around its text, so a stray PDI would close the element's isolate and let what follows run
 *   over the rest of the page's line.
 * Embeddings and marks stay (right-to-left text may need them); one left open ends with the isolate.
 */
export function forDisplay(text: string): string {
  if (!/[\u202D\u202E\u2066-\u2069]/.test(text)) return text;
  let open = 0;
  let out = '';
  for (const char of text) {
    if (OVERRIDES.has(char)) continue;
    if (ISOLATE_INITIATORS.has(char)) open += 1;
    else if (char === POP_DIRECTIONAL_ISOLATE) {
      if (open === 0) continue;
      open -= 1;
    }
    out += char;
  }
  return out + POP_DIRECTIONAL_ISOLATE.repeat(open);
}

/**
 * The text as an isolate (FSI … PDI), for attributes (`aria-label`, `title`) that mix the page's
 * words with a value: whatever direction the value sets ends at its PDI. In markup use `<Isolated>`.
 */
export function isolated(text: string): string {
  return `\u2068${forDisplay(text)}${POP_DIRECTIONAL_ISOLATE}`;
}
