export interface BenchRow {
  name: string;
  median_ms: number;
  per_second: number;
  /** What the row is held to, in words; null for a yardstick. */
  target: string | null;
  ok: boolean | null;
}
