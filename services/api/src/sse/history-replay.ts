import type { LifecycleEvent } from '@jobstream/contracts';
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
