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

/** The time a stream id was made, as an ISO string. */
export function streamIdTime(id: string): string {
  return new Date(Number(id.split('-')[0])).toISOString();
}
