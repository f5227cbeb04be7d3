/** Messages between the bench runner and its load-client processes (over the Node IPC channel). */

export type ClientCommand =
  | {
      type: 'open';
      id: number;
      baseUrl: string;
      jobIds: string[];
      /** Streams being opened at once; the rest wait for a slot. */
      concurrency: number;
    }
  | {
      type: 'poll';
      id: number;
      baseUrl: string;
      jobIds: string[];
      intervalMs: number;
      /** Gives up on jobs not finished by then. */
      timeoutMs: number;
    }
  | {
      type: 'stats';
      id: number;
      /** Latency samples of events stamped at or after this time (ms). */
      samplesSince?: number;
      /** Counts the sampled events stamped within [from, to) as `steadyEvents`. */
      window?: [number, number];
    }
  | { type: 'close-all'; id: number }
  | { type: 'reset'; id: number };

export interface LatencySamples {
  /** ms from the event's timestamp (when it was written to Redis) to the client reading it. */
  completed: number[];
  other: number[];
  /** Earliest event timestamp and latest read time among the samples (ms since the epoch). */
  firstEventAt: number;
  lastReadAt: number;
  steadyEvents: number;
}

export interface PollStats {
  requests: number;
  errors: number;
  jobsFinished: number;
  jobsUnfinished: number;
  /** ms from the snapshot's finishedAt to the poll that saw it. */
  knowLatencies: number[];
  running: boolean;
}

export interface ClientStats {
  streamsRequested: number;
  streamsConnected: number;
  streamsFailed: number;
  streamsEnded: number;
  streamsOpen: number;
  /** Streams that received their job's terminal event. */
  terminals: number;
  /** Messages received, by event name (lifecycle events, connected, heartbeat, reset). */
  events: Record<string, number>;
  /** Bytes read and written on every socket this client opened since the last reset (TCP payload). */
  bytes: number;
  errors: string[];
  samples?: LatencySamples;
  poll: PollStats;
  rssBytes: number;
  fdLimit: number;
}

export type ClientReply =
  | { type: 'ready'; fdLimit: number; pid: number }
  | { type: 'done'; id: number; ok: boolean; error?: string; stats?: ClientStats };
