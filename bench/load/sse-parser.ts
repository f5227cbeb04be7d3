/** One message of a text/event-stream body: its name, its id (lifecycle events only) and the raw data line. */
export interface SseMessage {
  event: string;
  id: string | undefined;
  data: string;
}

/**
 * A minimal event-stream parser for load clients: one string buffer and no per-message objects
 * beyond the message itself, so ten thousand connections stay cheap. It understands what the api
 * writes (LF line ends, one `data:` line per message) rather than every corner of the WHATWG rules;
 * test-support/sse-client.ts is the complete one the tests use.
 */
export function createSseParser(onMessage: (message: SseMessage) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer = buffer.length === 0 ? chunk : buffer + chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let id: string | undefined;
      let data = '';
      let start = 0;
      while (start < block.length) {
        let stop = block.indexOf('\n', start);
        if (stop < 0) stop = block.length;
        const line = block.slice(start, stop);
        start = stop + 1;
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data = line.slice(6);
        else if (line.startsWith('id: ')) id = line.slice(4);
      }
      // A block with only `retry:` (the shutdown hint) or a comment carries no message.
      if (data !== '') onMessage({ event, id, data });
    }
  };
}
