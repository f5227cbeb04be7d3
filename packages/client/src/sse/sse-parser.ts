/** One dispatched message of a `text/event-stream` body, as a browser's EventSource would dispatch it. */
export interface SseMessage {
  /** The `event:` field, or `message` when the block had none. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The `id:` of this very block, if it had one (unlike `lastEventId`, which is sticky). */
  id: string | undefined;
  /** The stream's last event id after this block: per the spec it survives blocks without `id:`. */
  lastEventId: string;
}

export interface SseParserCallbacks {
  onMessage(message: SseMessage): void;
  /** A valid `retry:` field (ASCII digits only): the server's reconnection delay in ms. */
  onRetry?(ms: number): void;
  /** A comment line (`: ...`), without the colon. Servers use them as keep-alives. */
  onComment?(text: string): void;
}

const BOM = '\uFEFF';

/**
 * An incremental parser of the WHATWG event-stream format
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
 * Feed it decoded text in chunks of any size: lines may end in CRLF, LF or CR, and a CRLF may be
 * split across two chunks. An event not terminated by a blank line before the stream ends is
 * dropped, as the spec says.
 */
export class SseParser {
  private buffer = '';
  private sawBom = false;
  /** A chunk ended in CR: if the next one starts with LF, that LF belongs to the same line end. */
  private pendingCr = false;
  private eventType = '';
  private data = '';
  private hasData = false;
  private blockId: string | undefined;
  /** The spec's "last event ID buffer": set by `id:`, kept across blocks. */
  private idBuffer: string;
  /** The spec's "last event ID string": the buffer as of the last dispatch. */
  private lastEventIdValue: string;

  constructor(
    private readonly callbacks: SseParserCallbacks,
    initialLastEventId = '',
  ) {
    this.idBuffer = initialLastEventId;
    this.lastEventIdValue = initialLastEventId;
  }

  /**
   * The last event id as of the last dispatched block (or the initial one): what a reconnect sends
   * as `Last-Event-ID`. An `id:` line whose block was cut off by a dropped connection does not
   * count, so that event is asked for again rather than skipped.
   */
  get lastEventId(): string {
    return this.lastEventIdValue;
  }

  feed(text: string): void {
    if (!this.sawBom && text.length > 0) {
      this.sawBom = true;
      if (text.startsWith(BOM)) text = text.slice(1);
    }
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;

    let start = 0;
    for (let i = 0; i < this.buffer.length; i += 1) {
      const ch = this.buffer.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (ch === 13) {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i += 1;
      }
      start = i + 1;
      this.processLine(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  private processLine(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) {
      this.callbacks.onComment?.(line.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);

    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data += this.hasData ? `\n${value}` : value;
        this.hasData = true;
        break;
      case 'id':
        // An id containing NUL is ignored entirely (spec), so it can never clear the cursor by accident.
        if (!value.includes('\0')) {
          this.idBuffer = value;
          this.blockId = value;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.callbacks.onRetry?.(Number(value));
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
  }

  private dispatch(): void {
    this.lastEventIdValue = this.idBuffer;
    const id = this.blockId;
    this.blockId = undefined;
    if (!this.hasData) {
      this.eventType = '';
      return;
    }
    const message: SseMessage = { event: this.eventType || 'message', data: this.data, id, lastEventId: this.lastEventIdValue };
    this.eventType = '';
    this.data = '';
    this.hasData = false;
    this.callbacks.onMessage(message);
  }
}
