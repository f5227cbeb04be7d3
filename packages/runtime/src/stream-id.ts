function parts(id: string): [number, number] {
  const dash = id.indexOf('-');
  return dash < 0 ? [Number(id), 0] : [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/** Compares the decimal numbers `a[aFrom..aTo)` and `b[bFrom..bTo)` digit by digit, leading zeros aside. */
function compareDigits(a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number): number {
  while (aFrom < aTo - 1 && a.charCodeAt(aFrom) === 48) aFrom += 1;
  while (bFrom < bTo - 1 && b.charCodeAt(bFrom) === 48) bFrom += 1;
  if (aTo - aFrom !== bTo - bFrom) return aTo - aFrom - (bTo - bFrom);
  for (let i = 0; aFrom + i < aTo; i += 1) {
    const d = a.charCodeAt(aFrom + i) - b.charCodeAt(bFrom + i);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Compares two Redis stream ids (`<ms>-<seq>`, or `<ms>` alone for `<ms>-0`) numerically: negative,
 * zero or positive. It runs for every event every stream delivers, so it compares the digits in
 * place instead of parsing numbers.
 */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  let aDash = a.indexOf('-');
  let bDash = b.indexOf('-');
  if (aDash < 0) aDash = a.length;
  if (bDash < 0) bDash = b.length;
  const ms = compareDigits(a, 0, aDash, b, 0, bDash);
  if (ms !== 0) return ms;
  // A missing sequence is 0.
  if (aDash < a.length && bDash < b.length) return compareDigits(a, aDash + 1, a.length, b, bDash + 1, b.length);
  if (aDash < a.length) return compareDigits(a, aDash + 1, a.length, '0', 0, 1);
  if (bDash < b.length) return compareDigits('0', 0, 1, b, bDash + 1, b.length);
  return 0;
}

/** The time a stream id was made, in ms since 1970. */
export function streamIdMs(id: string): number {
  return parts(id)[0];
}

/** The time a stream id was made, as an ISO string. */
export function streamIdTime(id: string): string {
  return new Date(streamIdMs(id)).toISOString();
}

/** Lua for scripts that compare stream ids: `after(a, b)` is true when id `a` comes after id `b`. */
export const LUA_STREAM_ID_AFTER = `
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function after(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am > bm or (am == bm and as > bs)
end
`;
