import type { RedisClient } from '@jobstream/runtime';

/**
 * Where a page of a sorted set of job ids ended: the score and id of its last job. The score is
 * the creation time in a user's job index (hence the name), the finish or run-at time in BullMQ's
 * state sets.
 */
export interface JobIndexPosition {
  createdAtMs: number;
  jobId: string;
}

export interface JobIndexPage {
  /** Highest score first. Some may name jobs BullMQ has removed since: the reader checks. */
  jobIds: string[];
  /** The same entries with their scores: where a reader that stops within the page continues. */
  entries: JobIndexPosition[];
  /** Where the next page continues; undefined on the last page. */
  next: JobIndexPosition | undefined;
}

/** `[member, score, member, score, ...]` as ZRANGE ... WITHSCORES answers it. */
function entriesOf(reply: unknown): JobIndexPosition[] {
  const flat = Array.isArray(reply) ? reply.map(String) : [];
  const entries: JobIndexPosition[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ jobId: flat[i] as string, createdAtMs: Number(flat[i + 1]) });
  return entries;
}

/** Answers of a MULTI, each `[error, result]`: the first error is thrown, as a single command would. */
function resultsOf(replies: [Error | null, unknown][] | null): unknown[] {
  if (!replies) throw new Error('the sorted set page transaction was aborted');
  return replies.map(([err, result]) => {
    if (err) throw err;
    return result;
  });
}

/**
 * Up to `limit` ids of the sorted set at `key`, highest score first, after `after` (exclusive), and
 * where the next page starts. Stable while members come and go: a page continues from a position,
 * not an offset.
 */
export async function pageSortedSet(
  redis: RedisClient,
  key: string,
  options: { limit: number; after?: JobIndexPosition | undefined },
): Promise<JobIndexPage> {
  const { limit, after } = options;
  let candidates: JobIndexPosition[];
  if (after === undefined) {
    candidates = entriesOf(await redis.zrange(key, '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, limit + 1, 'WITHSCORES'));
  } else {
    // Members with the cursor's score sort by id (descending, under REV): those after it are the
    // ones whose id is smaller. Compared here, not in Lua, whose string comparison follows the
    // server's locale rather than Redis's byte order. Ids are ASCII.
    const score = String(after.createdAtMs);
    const [tied, older] = resultsOf(
      await redis
        .multi()
        .zrange(key, score, score, 'BYSCORE', 'REV', 'WITHSCORES')
        .zrange(key, `(${score}`, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, limit + 1, 'WITHSCORES')
        .exec(),
    );
    candidates = [...entriesOf(tied).filter((entry) => entry.jobId < after.jobId), ...entriesOf(older)];
  }
  const entries = candidates.slice(0, limit);
  const last = entries.at(-1);
  return { jobIds: entries.map((entry) => entry.jobId), entries, next: candidates.length > limit ? last : undefined };
}
