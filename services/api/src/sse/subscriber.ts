import { isTerminalEvent, type LifecycleEvent } from '@jobstream/contracts';
import { activeTraceparent, compareStreamIds, relayTraceparentOf } from '@jobstream/runtime';
import type { ServerResponse } from 'node:http';
import { formatLifecycleEvent } from './sse-format.js';
import { jobChannelRef, type JobChannelRef } from './hub-channel.js';
import { ReplayingSink, type ReplayCounter, type StreamHooks } from './replaying-sink.js';
import { traceDelivery } from './trace-delivery.js';

/**
 * One open stream of one job, fed by the replay of the job's history and the live feed (see
 * ReplayingSink); it ends after the terminal event.
 */
export class Subscriber extends ReplayingSink<LifecycleEvent> {
  /** The one channel the stream follows: the job's. */
  readonly channels: readonly [JobChannelRef];
  /** The id of the last event the client has: where a replay reads on from (undefined: from the start). */
  lastSentId: string | undefined;
  /** The span of the request that opened the stream (made inside it), when tracing is on. */
  private readonly openedBy = activeTraceparent();

  constructor(readonly jobId: string, res: ServerResponse, maxBufferBytes: number, replays: ReplayCounter, hooks: StreamHooks) {
    super(res, maxBufferBytes, replays, hooks);
    this.channels = [jobChannelRef(jobId)];
  }

  heartbeat(timestamp: string): void {
    this.send({ event: 'heartbeat', data: { jobId: this.jobId, timestamp } });
  }

  protected deliver(event: LifecycleEvent): void {
    if (this.closed) return;
    if (this.lastSentId !== undefined && compareStreamIds(event.id, this.lastSentId) <= 0) return;
    this.lastSentId = event.id;
    const chunk = formatLifecycleEvent(event);
    const relayed = relayTraceparentOf(event);
    if (relayed) {
      const attributes = { 'jobstream.stream.kind': 'job', 'jobstream.job.id': this.jobId, 'jobstream.event.name': event.event, 'jobstream.event.id': event.id };
      traceDelivery(relayed, this.openedBy, attributes, () => {
        this.write(chunk);
        return this;
      });
    } else {
      this.write(chunk);
    }
    if (isTerminalEvent(event)) this.close('terminal');
  }
}
