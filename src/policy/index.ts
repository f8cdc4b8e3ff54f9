export * from './types';
export { parsePolicy, validatePolicy, formatPath } from './load';
export { type Policy, EKS_MAX_PUBLIC_CIDRS, DEFAULT_EXEMPTION_TAG, DEFAULT_MAX_TAG_EXEMPTION_DAYS, DEFAULT_ESCALATION } from './schema';
export { parseObservedCluster, parseClusterArn, EKS_ENDPOINT_DEFAULTS, type ObservedCluster } from './cluster';
export { evaluateCluster, findViolations, type EvaluateOptions } from './evaluate';
export { planTarget, narrowCidrs } from './plan';
export { matches, resolveSettings, type MatchSubject } from './match';
export { globMatches, compileGlob, type GlobMatcher } from './glob';
export { policyWarnings, EXPIRY_WARNING_DAYS } from './lint';
