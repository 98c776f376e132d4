/**
 * AWS's commercial regions (partition `aws`), as listed by "AWS Region billing codes"
 * (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html) and "AWS Regions"
 * (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html), checked 2026-11-30 against the region
 * list aws-cdk-lib ships (region-info, AWS_REGIONS). GovCloud, China, ISO and European Sovereign Cloud regions are
 * other partitions: an account in one cannot reach the others, and Cutover's stacks are not built for them.
 * A region AWS opens later is refused until it is added here.
 */
export const COMMERCIAL_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'ca-west-1',
  'mx-central-1',
  'sa-east-1',
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
] as const;

export type CommercialRegion = (typeof COMMERCIAL_REGIONS)[number];

const KNOWN: ReadonlySet<string> = new Set(COMMERCIAL_REGIONS);

export function isCommercialRegion(name: string): name is CommercialRegion {
  return KNOWN.has(name);
}

/** Edit distance (optimal string alignment): insertions, deletions, substitutions and swaps of neighbours, each 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(a.length, b.length);
}

/**
 * The candidate closest to `value`, when it is close enough to be a typo: the only candidate it begins, or one
 * where at most a third of the longer word's letters differ (ignoring case). A tie goes to the candidate listed first.
 */
export function closest(value: string, candidates: readonly string[]): string | undefined {
  const v = value.toLowerCase();
  // A name without its unit or qualifier (ttl for ttlMs, witness for witnessRegion) is the start of one key only.
  const extended = candidates.filter((c) => v.length >= 3 && c.toLowerCase().startsWith(v));
  if (extended.length === 1) return extended[0];
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(v, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  return bestDistance <= Math.max(1, Math.floor(Math.max(v.length, best.length) / 3)) ? best : undefined;
}

/** Why `value` is not a region Cutover can deploy to, with the likely intended one; undefined when it is one. */
export function regionProblem(value: string): string | undefined {
  if (isCommercialRegion(value)) return undefined;
  if (/^(us-gov|cn|us-iso[a-z]*|eu-iso[a-z]*|eusc)-/.test(value)) {
    return `${JSON.stringify(value)} is in another AWS partition (GovCloud, China, ISO or European Sovereign Cloud), which Cutover does not deploy to: use a commercial region such as us-east-1`;
  }
  const near = closest(value, COMMERCIAL_REGIONS);
  return near
    ? `${JSON.stringify(value)} is not an AWS region: did you mean ${near}?`
    : `${JSON.stringify(value)} is not an AWS region: use a region code such as us-east-1 or eu-central-1 (the list: functions/core/regions.ts)`;
}
