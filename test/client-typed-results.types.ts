/**
 * Type-level tests of the SDK's results typed by job type, checked by `npm run typecheck`
 * (tsconfig.test.json): every `@ts-expect-error` line must be an error and every other line must
 * compile. Nothing here runs (client-sdk-typed-results.test.ts runs the same calls against the api).
 */
import type { DemoWorkResult, FlashcardsResult, JobId, JobSnapshot, JobstreamClient, JobWatch, JobWatchItem } from '@jobstream/client';

/** True when A and B are the same type (not merely assignable one way). */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
const same = <A, B>(proof: Equal<A, B>): Equal<A, B> => proof;

const cards = { content: 'Mitochondria make ATP.', subject: 'Biology', topic: 'Cells' };

export async function resultsFollowTheJobIdFromEnqueue(client: JobstreamClient): Promise<unknown[]> {
  const { jobId, type } = await client.enqueue('flashcards.generate', cards);
  const watch = client.watchJob(jobId);
  const done = await watch.done;
  const snapshot = await client.getJob(jobId);
  const checks: unknown[] = [
    type,
    snapshot,
    same<typeof type, 'flashcards.generate'>(true),
    same<typeof watch, JobWatch<'flashcards.generate'>>(true),
    same<NonNullable<typeof done>['result'], FlashcardsResult | undefined>(true),
    same<typeof snapshot.result, FlashcardsResult | undefined>(true),
    same<typeof snapshot.type, 'flashcards.generate'>(true),
    // @ts-expect-error a flashcards result is not unknown
    same<typeof snapshot.result, unknown>(true),
  ];
  // @ts-expect-error a flashcards result has no durationMs
  checks.push(done?.result?.durationMs);
  watch.on('end', (job) => checks.push(job.result?.flashcards[0]?.front));
  // @ts-expect-error the front of a card is a string, not a number
  watch.on('end', (job) => checks.push(job.result?.flashcards[0]?.front.toFixed()));
  for await (const item of client.watchJob(jobId)) {
    if (item.event === 'completed') checks.push(same<typeof item.data.result, FlashcardsResult | undefined>(true));
    if (item.event === 'snapshot') checks.push(same<typeof item.job.result, FlashcardsResult | undefined>(true));
  }
  return checks;
}

export async function aCallerNamesTheTypeOfAPlainId(client: JobstreamClient, id: string): Promise<unknown[]> {
  const named = await client.watchJob<'demo.work'>(id).done;
  const plain = await client.getJob(id);
  return [
    named,
    same<NonNullable<typeof named>['result'], DemoWorkResult | undefined>(true),
    same<typeof plain, JobSnapshot>(true),
    same<typeof plain.result, unknown>(true),
    // @ts-expect-error the type of a plain id is not known: its result is unknown
    plain.result.flashcards,
  ];
}

export async function existingCallShapesKeepWorking(client: JobstreamClient): Promise<unknown[]> {
  const { jobId } = await client.enqueue('demo.work', { durationMs: 10 });
  const asString: string = jobId;
  const untyped: JobWatch = client.watchJob(jobId);
  const items: JobWatchItem[] = [];
  for await (const item of client.watchJob(jobId)) items.push(item);
  const typedId: JobId<'demo.work'> = jobId;
  return [asString, untyped, items, typedId];
}

export async function payloadsAreTypedByTheSameName(client: JobstreamClient): Promise<unknown[]> {
  return [
    // @ts-expect-error count is a number
    await client.enqueue('flashcards.generate', { ...cards, count: '5' }),
    // @ts-expect-error a flashcards payload needs its content
    await client.enqueue('flashcards.generate', { subject: 'Biology', topic: 'Cells' }),
    // @ts-expect-error no such job type
    await client.enqueue('flashcards.nope', cards),
  ];
}
