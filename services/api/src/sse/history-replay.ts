import { isTerminalEvent, type LifecycleEvent } from '@jobstream/contracts';
import { compareStreamIds, isCursorCovered, type HistoryRead } from '@jobstream/runtime';

/** What a stream must send after `afterId`, given what the job's history holds. */
export type ReplayPlan =
  | { kind: 'replay'; events: LifecycleEvent[] }
  /** The history does not cover `afterId`: say so, send the job as it is, then all that is stored. */
  | { kind: 'reset' }
  /** The client already has the terminal event: nothing will ever follow (answered with 204). */
  | { kind: 'finished' };

/**
 * Decides how a stream resumes, by the coverage rule every stream shares (`isCursorCovered`): a
 * cursor the history no longer covers (trimmed, expired, from another job, made up) is a reset,
 * never a silent gap.
 */
export function planReplay(read: HistoryRead, afterId: string | undefined, isTerminal: (e: LifecycleEvent) => boolean): ReplayPlan {
  if (afterId === undefined) return { kind: 'replay', events: read.events };
  if (!isCursorCovered(afterId, read.bounds)) return { kind: 'reset' };
  if (read.last && compareStreamIds(afterId, read.last.id) === 0 && isTerminal(read.last)) return { kind: 'finished' };
  return { kind: 'replay', events: read.events };
}

/**
 * The events of a replayed page, with every outcome older than the job's newest stored event
 * (`newestId`) marked `retried`: the job ran again after it, so it does not end the stream (or a
 * client's watch); the later run's events follow it.
 */
export function markRetriedOutcomes(events: LifecycleEvent[], newestId: string | undefined): LifecycleEvent[] {
  if (newestId === undefined) return events;
  return events.map((event) =>
    isTerminalEvent(event) && compareStreamIds(event.id, newestId) < 0 ? ({ ...event, data: { ...event.data, retried: true } } as LifecycleEvent) : event,
  );
}
