import { forDisplay } from './bidi.js';

/**
 * A value someone else controls (a notification's title, a job's error, a kill-switch reason, ...)
 * as a `<bdi>`: its direction is its own, bidi controls in it cannot reorder the page's text around
 * it, and overrides in it cannot reverse it (see `forDisplay`). Rendered as text, never as markup.
 */
export function Isolated({ text, class: className }: { text: string; class?: string }) {
  return <bdi class={className}>{forDisplay(text)}</bdi>;
}
