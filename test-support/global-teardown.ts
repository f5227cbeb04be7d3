export default async function globalTeardown(): Promise<void> {
  const redis = (globalThis as Record<string, unknown>).__jobstreamRedis as { destroy(): Promise<unknown> } | undefined;
  await redis?.destroy();
}
