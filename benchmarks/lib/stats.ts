// Summaries of repeated measures. Medians, because one slow round on a shared two-core machine
// (a GC, a neighbour's burst) should not move the figure we report.

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The median value of the samples of one contender in one case; NaN when there are none. */
export function medianOf(
  samples: readonly { readonly contender: string; readonly case: string; readonly value: number }[],
  contender: string,
  caseName: string,
): number {
  return median(samples.filter((sample) => sample.contender === contender && sample.case === caseName).map((sample) => sample.value));
}

/** The `q` quantile (0..1) of `values`, by nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** `value / reference`, or NaN when the reference is missing or zero. */
export function ratio(value: number, reference: number | undefined): number {
  return reference === undefined || reference === 0 ? Number.NaN : value / reference;
}
