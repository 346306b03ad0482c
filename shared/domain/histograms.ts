/**
 * Durations kept as histograms inside the daily counter item: one counter per bucket,
 * `<name>.le<upper bound in seconds>` (and `<name>.inf` above the last bound). The
 * transition that ends an interval adds 1 to its bucket in the same transaction, so a
 * repeated message that changes nothing counts nothing. Percentiles are read from the
 * buckets: no request is read.
 *
 * Resolution: the bounds below; a percentile is reported as the upper bound of the
 * bucket it falls in (so "at most"), e.g. a median of 300 means 3–5 minutes.
 */
export const BUCKET_BOUNDS_SECONDS = [
  5, 10, 15, 30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, 10800, 14400,
  21600, 28800, 43200, 86400, 172800,
] as const;

export type DurationName = 'toMatched' | 'toDelivered';

/** The counter field of a duration in milliseconds. */
export function bucketField(name: DurationName, ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  const bound = BUCKET_BOUNDS_SECONDS.find((b) => seconds <= b);
  return bound === undefined ? `${name}.inf` : `${name}.le${bound}`;
}

/** Counter adds for the interval from `start` (ISO time) to `end`. */
export const durationAdds = (name: DurationName, start: string, end: Date) => ({
  [bucketField(name, end.getTime() - Date.parse(start))]: 1,
});

export interface DurationSummary {
  /** Intervals counted. */
  count: number;
  /** Upper bound (seconds) of the bucket holding the median; null with no data. */
  medianSeconds: number | null;
  p90Seconds: number | null;
}

/**
 * The median and 90th percentile of a histogram summed over days (fields as written
 * by `bucketField`). The p-th percentile is the bucket of the ceil(p·n)-th interval.
 * Above the last bound it is reported as that bound (`> 48 h`).
 */
export function summarize(totals: Record<string, number>, name: DurationName): DurationSummary {
  const buckets: [number, number][] = BUCKET_BOUNDS_SECONDS.map((b) => [
    b,
    Number(totals[`${name}.le${b}`] ?? 0),
  ]);
  const last = BUCKET_BOUNDS_SECONDS[BUCKET_BOUNDS_SECONDS.length - 1];
  buckets.push([last, Number(totals[`${name}.inf`] ?? 0)]);
  const count = buckets.reduce((s, [, n]) => s + n, 0);
  const at = (p: number): number | null => {
    if (count === 0) return null;
    const rank = Math.max(1, Math.ceil(p * count));
    let seen = 0;
    for (const [bound, n] of buckets) {
      seen += n;
      if (seen >= rank) return bound;
    }
    return last;
  };
  return { count, medianSeconds: at(0.5), p90Seconds: at(0.9) };
}
