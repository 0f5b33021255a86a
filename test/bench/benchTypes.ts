export interface BenchRow {
  name: string;
  median_ms: number;
  per_second: number;
  /** What the row is held to, in words; null for a yardstick. */
  target: string | null;
  ok: boolean | null;
  /** The slowest percent of the runs starts here; only where the tail is what the target is about. */
  p99_ms?: number;
  /** How many timed runs the figures are taken from. */
  runs?: number;
  /** For a rate measured beside a yardstick: the median of the per-round ratios to it. */
  ratio?: number;
  /** CPU time of the serving process per request, in milliseconds (Linux only). */
  cpu_ms_per_request?: number;
}
