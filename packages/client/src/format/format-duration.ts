/**
 * A duration the one way jobstream shows it, in the CLI and the dashboard alike: "850 ms",
 * "2.4 s", "1 min 05 s", "2 h 03 min"; "–" for a value that is no duration. The unit is chosen
 * after rounding, so 999.6 ms is "1.0 s" and 59,999 ms "1 min 00 s", never "1000 ms" or "60.0 s".
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (Math.round(ms) < 1_000) return `${Math.round(ms)} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
