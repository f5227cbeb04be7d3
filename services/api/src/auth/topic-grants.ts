import { TOPIC_GRANTS_MAX, topicPatternSchema } from '@jobstream/contracts';
import { z } from 'zod';
import { hasRole, type Principal } from './principal.js';

/**
 * Who may follow a topic, in the manner of Centrifugo's channel namespaces: a public namespace
 * anyone signed in may follow (NOTIFICATION_PUBLIC_TOPICS), every other topic only with a grant
 * in the caller's credentials, and any topic for the publishers (`service`, `admin`). Patterns are
 * `news`, `team-42.*` or `*` (see `topicPatternSchema`).
 */

const grantListSchema = z.array(topicPatternSchema).max(TOPIC_GRANTS_MAX);

/**
 * The patterns of a token's `topics` claim (an array). Anything malformed (not an array, one bad
 * entry, too many) grants nothing: a half-understood grant must not widen access.
 */
export function topicGrantsFrom(claim: unknown): string[] {
  const parsed = grantListSchema.safeParse(claim);
  return parsed.success ? parsed.data : [];
}

/** The patterns of a gateway's topics header: comma- or space-separated, with the same all-or-nothing rule. */
export function topicGrantsFromHeader(value: string | undefined): string[] {
  if (value === undefined) return [];
  return topicGrantsFrom(value.split(/[\s,]+/).filter((pattern) => pattern !== ''));
}

/** Whether `pattern` covers `topic`: the same name, a `prefix.*` the topic is below, or `*`. */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === '*') return true;
  if (!pattern.endsWith('.*')) return pattern === topic;
  const prefix = pattern.slice(0, -1);
  return topic.length > prefix.length && topic.startsWith(prefix);
}

/** Whether `principal` may follow `topic`: by role, or by one of its patterns (its grants and the public ones). */
export function mayFollowTopic(principal: Principal, topic: string): boolean {
  if (hasRole(principal, 'admin') || hasRole(principal, 'service')) return true;
  return (principal.topics ?? []).some((pattern) => topicMatches(pattern, topic));
}

/** Both lists, each pattern once, in order: the public namespace first. */
export function mergeTopicPatterns(...lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())];
}
