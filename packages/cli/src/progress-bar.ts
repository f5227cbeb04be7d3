import type { ConnectionState, JobSnapshot } from '@jobstream/client';

export interface ProgressLine {
  job: JobSnapshot | undefined;
  connection: ConnectionState;
  elapsedMs: number;
  /** Terminal width; the line never gets longer (it is redrawn in place). */
  columns: number;
  /** Advances the spinner. */
  frame: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The job's progress as a number from 0 to 100, or undefined when it reports an object. */
export function percentOf(progress: JobSnapshot['progress'] | undefined): number | undefined {
  return typeof progress === 'number' ? Math.max(0, Math.min(100, progress)) : undefined;
}

/** Progress as text: `45%`, or the object compactly. */
export function progressText(progress: JobSnapshot['progress'] | undefined): string {
  if (progress === undefined) return '';
  return typeof progress === 'number' ? `${Math.round(progress)}%` : JSON.stringify(progress);
}

/**
 * The one line a TTY shows while watching: spinner, state, bar, percent, elapsed time, and the
 * connection when it is not live. Pure, so it is tested without a terminal.
 */
export function renderProgressLine(p: ProgressLine): string {
  const spinner = SPINNER[p.frame % SPINNER.length] ?? '';
  const state = p.job?.state ?? 'connecting';
  const percent = percentOf(p.job?.progress);
  const elapsed = `${(p.elapsedMs / 1_000).toFixed(1)}s`;
  const connection = p.connection === 'live' ? '' : `  (${p.connection})`;
  const tail = `${percent === undefined ? progressText(p.job?.progress) : `${String(Math.round(percent)).padStart(3)}%`}  ${elapsed}${connection}`;
  const head = `${spinner} ${state.padEnd(9)} `;
  const room = p.columns - head.length - tail.length - 3;
  if (percent === undefined || room < 10) return `${head}${tail}`.slice(0, Math.max(p.columns - 1, 1));
  const width = Math.min(room, 40);
  const filled = Math.round((percent / 100) * width);
  return `${head}[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${tail}`;
}
