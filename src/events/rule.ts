/**
 * The EventBridge rule that feeds the intake (serverless.yml, function triageEvent). Kept here as data so
 * the local runner delivers exactly what the deployed rule would, and a test keeps the two identical.
 */
export const INTAKE_RULE_PATTERN = {
  source: ['aws.eks'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['eks.amazonaws.com'],
    // Tag changes can move a cluster to another policy rule or exempt it, so they are judged too.
    eventName: ['CreateCluster', 'UpdateClusterConfig', 'TagResource', 'UntagResource'],
    // Failed calls changed nothing; the guard's own refused retries would otherwise come back to it too.
    errorCode: [{ exists: false }],
  },
} as const;

type Field = readonly (string | { exists: boolean })[];

function fieldMatches(values: Field, actual: unknown): boolean {
  return values.some((v) => (typeof v === 'string' ? actual === v : v.exists === (actual !== undefined)));
}

/**
 * True when an EventBridge event matches INTAKE_RULE_PATTERN. Supports what that pattern uses: lists of
 * exact strings, and `exists`, on top-level and `detail` fields.
 */
export function matchesIntakeRule(event: unknown): boolean {
  if (event === null || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  const detail = (e.detail ?? {}) as Record<string, unknown>;
  const p = INTAKE_RULE_PATTERN;
  return (
    fieldMatches(p.source, e.source) &&
    fieldMatches(p['detail-type'], e['detail-type']) &&
    Object.entries(p.detail).every(([key, values]) => fieldMatches(values as Field, detail[key]))
  );
}
