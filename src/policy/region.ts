/**
 * Region names checked against the SDK's partition data (aws-regions.ts), not a pattern: a typo such as
 * `eu-wset-1` in a deployment's governed regions would otherwise leave a real region silently ungoverned.
 */
import { AWS_REGIONS } from './aws-regions';
import { didYouMean } from './messages';

const KNOWN = new Set(AWS_REGIONS);

/** Why `value` is not an AWS region name, or null when it is one. */
export function regionNameProblem(value: string): string | null {
  if (KNOWN.has(value)) return null;
  return `${JSON.stringify(value)} is not an AWS region${didYouMean(value, AWS_REGIONS)}`;
}
