/**
 * Reading the parts of a CloudTrail record that triage needs, one field at a time, and saying what is wrong
 * with one in a line that names the field by its path in the document (`detail.requestParameters.name`).
 * No real sample of an EKS UpdateClusterConfig record is public, so only the fields that decide are
 * checked; the others are taken when they have the expected type and otherwise read as absent.
 */
import type { z } from 'zod';

export type Path = readonly PropertyKey[];
export type JsonObject = Record<string, unknown>;

export const NOT_AN_EVENT = 'event: not an EventBridge "AWS API Call via CloudTrail" envelope nor a CloudTrail record';
// A problem with one of these (near the top of the document) means the input is not an event at all.
const IDENTIFYING_KEYS = new Set<PropertyKey>(['detail', 'detail-type', 'eventName', 'eventSource', 'eventID']);

/** A JSON object (not an array, not null), or null for anything else. */
export function asObject(value: unknown): JsonObject | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : null;
}

/** A non-empty string, or null for anything else: for fields that only inform and never decide. */
export function looseString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The first non-empty string among candidate fields, in order of preference. A candidate that is present
 * with another type stops the search with a problem: falling through to the next one could silently take
 * a different account (the caller's instead of the cluster owner's). Returns null when nothing was found;
 * `missing` is then added, unless a problem was reported already.
 */
export function firstString(candidates: ReadonlyArray<{ value: unknown; at: Path }>, missing: string, problems: string[]): string | null {
  for (const { value, at } of candidates) {
    if (typeof value === 'string' && value !== '') return value;
    if (value === undefined || value === null || value === '') continue;
    problems.push(`event: ${formatPath(at)}: expected string, got ${preview(value)}`);
    return null;
  }
  problems.push(missing);
  return null;
}

/**
 * A container that must be a JSON object when present (`requestParameters`, `responseElements`): null or
 * absent reads as an empty object, anything else is one problem and null.
 */
export function objectPart(value: unknown, at: Path, problems: string[]): JsonObject | null {
  if (value === undefined || value === null) return {};
  const object = asObject(value);
  if (!object) problems.push(`event: ${formatPath(at)}: expected object, got ${preview(value)}`);
  return object;
}

/** Parses `value` (absent reads as `{}`) with `schema`, adding one line per issue; null when it does not parse. */
export function parsePart<T>(schema: z.ZodType<T>, value: unknown, at: Path, problems: string[]): T | null {
  const parsed = schema.safeParse(value ?? {}, { reportInput: true });
  if (parsed.success) return parsed.data;
  problems.push(...issueLines(parsed.error.issues, at));
  return null;
}

/**
 * Reads the field `key` of `container` whatever the letter case of its name (`endpointPublicAccess`,
 * `EndpointPublicAccess`, `endpointpublicaccess`): a field that decides must never be skipped because a
 * producer spelled it differently. Null values read as absent. Spellings that hold different values
 * (after parsing, so `true` and `"true"` agree) are a problem naming both, as is a value that does not
 * parse. Returns undefined when the field is absent or has a problem.
 */
export function caseInsensitiveField<T>(container: JsonObject, key: string, schema: z.ZodType<T>, at: Path, problems: string[]): T | undefined {
  const wanted = key.toLowerCase();
  // The documented spelling first, so that it is the one named first in a disagreement.
  const spellings = Object.keys(container)
    .filter((k) => k.toLowerCase() === wanted)
    .sort((a, b) => Number(b === key) - Number(a === key));
  const found: Array<{ spelling: string; raw: unknown; value: T }> = [];
  let failed = false;
  for (const spelling of spellings) {
    const raw = container[spelling];
    if (raw === null || raw === undefined) continue;
    const parsed = schema.safeParse(raw, { reportInput: true });
    if (parsed.success) found.push({ spelling, raw, value: parsed.data });
    else {
      problems.push(...issueLines(parsed.error.issues, [...at, spelling]));
      failed = true;
    }
  }
  if (failed) return undefined;
  const [first, ...others] = found;
  if (!first) return undefined;
  const disagreeing = others.filter((other) => JSON.stringify(other.value) !== JSON.stringify(first.value));
  for (const other of disagreeing) {
    problems.push(
      `event: ${formatPath([...at, first.spelling])} (${preview(first.raw)}) and ${formatPath([...at, other.spelling])} (${preview(other.raw)}) disagree`,
    );
  }
  return disagreeing.length > 0 ? undefined : first.value;
}

/** One line per schema issue, each naming the field by its full path and showing the value found. */
export function issueLines(issues: readonly z.core.$ZodIssue[], at: Path): string[] {
  return issues.map((issue) => {
    const path = [...at, ...issue.path];
    const where = formatPath(path);
    const identifying = IDENTIFYING_KEYS.has(issue.path[issue.path.length - 1] ?? '') && issue.path.length <= 2 && at.length === 0;
    const input = (issue as { input?: unknown }).input;
    if (input === undefined || (issue.code === 'too_small' && input === '')) {
      return `${identifying ? NOT_AN_EVENT : 'event'}: missing ${where}`;
    }
    // zod calls a JSON object a "record"; the people reading these lines call it an object.
    const expected = issue.code === 'invalid_type' && issue.expected === 'record' ? 'object' : issue.code === 'invalid_type' ? issue.expected : null;
    const what = expected !== null ? `expected ${expected}` : issue.message.replace(/^Invalid input: /, '');
    return `${identifying ? NOT_AN_EVENT : 'event'}: ${where}: ${what}, got ${preview(input)}`;
  });
}

/** `detail.requestParameters.resourcesVpcConfig.publicAccessCidrs[0]`, as people write it. */
export function formatPath(path: Path): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/** A value as it appeared in the document, cut to a length that fits in one line. */
export function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `null`, `an array`, `a string`: what a document turned out to be instead of an object. */
export function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
