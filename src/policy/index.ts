export * from './types';
export { parsePolicy, validatePolicy, formatPath } from './load';
export { type Policy, EKS_MAX_PUBLIC_CIDRS, DEFAULT_EXEMPTION_TAG } from './schema';
export { parseObservedCluster, parseClusterArn, EKS_ENDPOINT_DEFAULTS, type ObservedCluster } from './cluster';
export { evaluateCluster, findViolations, type EvaluateOptions } from './evaluate';
export { planTarget, narrowCidrs } from './plan';
export { matches, resolveSettings } from './match';
