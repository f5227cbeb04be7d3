function parts(id: string): [number, number] {
  const dash = id.indexOf('-');
  return dash < 0 ? [Number(id), 0] : [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/**
 * Compares two Redis stream ids (`<ms>-<seq>`) numerically: negative, zero or positive.
 * Plain numbers are exact here: milliseconds since 1970 and sequence numbers stay far below 2^53.
 */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = parts(a);
  const [bMs, bSeq] = parts(b);
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
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
