/**
 * Policy errors in the product's own words. Zod reports what its types expected ("Invalid input: expected
 * array, received string"); a policy author needs what the policy expects ("must be a list, got a
 * string"), the value that was found, and, for a near miss, what was probably meant. Every problem is a
 * path into the document and a message; load.ts adds the file name and the line and column.
 */
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { AWS_REGIONS } from './aws-regions';

/** One problem of a policy document: where it is (a path into the document) and what is wrong. */
export type Problem = { path: readonly PropertyKey[]; message: string };

/** What the document was written in: hints about quoting only make sense for YAML. */
export type Syntax = 'yaml' | 'json' | 'data';

/** A value as it appears in messages: JSON, cut at 80 characters; `missing` for no value at all. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** What kind of value was found, as a policy author would say it. */
function kindOf(value: unknown): string {
  if (value === null) return 'an empty value (null)';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(value) ? 'a number' : 'a decimal number';
    case 'boolean':
      return `${String(value)} (a boolean)`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

const EXPECTED: Record<string, string> = {
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/** How many edits a near miss may be from what was meant: one for short names, up to three for long ones. */
const maxEdits = (length: number) => (length <= 4 ? 1 : length <= 8 ? 2 : 3);

/** How many characters the two strings do not share, counted as multisets (a transposition costs nothing). */
function bagDistance(a: string, b: string): number {
  const counts = new Map<string, number>();
  for (const c of a) counts.set(c, (counts.get(c) ?? 0) + 1);
  for (const c of b) counts.set(c, (counts.get(c) ?? 0) - 1);
  let total = 0;
  for (const n of counts.values()) total += Math.abs(n);
  return total;
}

/**
 * The candidates closest to `input` (ignoring letter case), if any is a near miss: fewest edits first
 * (Levenshtein, from fastest-levenshtein), ties broken by the characters the two do not share, so that
 * `us-esat-1` (two letters swapped) suggests `us-east-1` rather than `us-west-1`. At most three, when
 * even that does not separate them; none when the best is further than a typo away.
 */
export function closestNames(input: string, candidates: readonly string[]): string[] {
  const lower = input.toLowerCase();
  let best: { d: number; bag: number } | null = null;
  let found: string[] = [];
  for (const candidate of candidates) {
    const other = candidate.toLowerCase();
    const d = distance(lower, other);
    if (d > maxEdits(Math.max(input.length, candidate.length))) continue;
    const bag = bagDistance(lower, other);
    if (best === null || d < best.d || (d === best.d && bag < best.bag)) {
      best = { d, bag };
      found = [candidate];
    } else if (d === best.d && bag === best.bag) {
      found.push(candidate);
    }
  }
  return found.slice(0, 3);
}

/** ` (did you mean X?)`, ` (did you mean X or Y?)`, or nothing when no candidate is close. */
export function didYouMean(input: unknown, candidates: readonly string[]): string {
  if (typeof input !== 'string' || input === '') return '';
  const names = closestNames(input, candidates).filter((n) => n !== input);
  if (names.length === 0) return '';
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  return ` (did you mean ${list}?)`;
}

/** The shape the schema requires of a region name; a name of this shape can still be one AWS has never used. */
export const REGION_SHAPE = /^[a-z]{2,4}(-[a-z]+)+-\d+$/;
const KNOWN_REGIONS: ReadonlySet<string> = new Set(AWS_REGIONS);

/** True for a region of the AWS SDK's partition data (every partition: aws, aws-cn, aws-us-gov, ...). */
export function isKnownRegion(name: string): boolean {
  return KNOWN_REGIONS.has(name);
}

/**
 * Why `name` cannot be a region a cluster is in, or null when it can: either it is not shaped like a
 * region name, or no partition of the AWS SDK knows it (`us-esat-1`: "did you mean us-east-1?").
 */
export function regionProblem(name: string): string | null {
  if (isKnownRegion(name)) return null;
  const what = REGION_SHAPE.test(name) ? 'not a known AWS region' : 'not an AWS region name';
  return `${what}${didYouMean(name, AWS_REGIONS)}`;
}

/** The part of `schema` that judges the value at `path`, or null where the path leaves the schema. */
export function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | null {
  let node: z.ZodType | null = schema;
  for (let i = 0; i <= path.length && node !== null; ) {
    if (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodNullable) {
      node = node.unwrap() as z.ZodType;
      continue;
    }
    if (i === path.length) break;
    const part = path[i]!;
    if (node instanceof z.ZodObject) node = (node.shape as Record<string, z.ZodType>)[String(part)] ?? null;
    else if (node instanceof z.ZodArray) node = node.element as z.ZodType;
    else if (node instanceof z.ZodRecord) node = node.valueType as z.ZodType;
    else node = null;
    i += 1;
  }
  return node;
}

/** The keys the schema knows at `path` (where the document has a mapping), for "did you mean". */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const node = schemaAt(schema, path);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

/** `from 1 to 40`, `at least 1`, ... for a number schema; null when it has no bounds. */
function numberRange(node: z.ZodType | null): { whole: boolean; range: string } | null {
  if (!(node instanceof z.ZodNumber)) return null;
  const min = Number.isFinite(node.minValue) ? node.minValue : null;
  const max = Number.isFinite(node.maxValue) ? node.maxValue : null;
  // A safe integer's own limits are not a bound anyone wrote.
  const written = (v: number | null) => (v !== null && Math.abs(v) < Number.MAX_SAFE_INTEGER ? v : null);
  const [lo, hi] = [written(min), written(max)];
  const range = lo !== null && hi !== null ? ` from ${lo} to ${hi}` : lo !== null ? ` of at least ${lo}` : hi !== null ? ` of at most ${hi}` : '';
  return { whole: node.isInt === true, range };
}

const isDefaultWording = (message: string) => /^(Invalid|Too (big|small)|Unrecognized|Expected)\b/.test(message);
const isAccountPath = (path: readonly PropertyKey[]) => path.length >= 2 && path[path.length - 2] === 'accounts' && typeof path[path.length - 1] === 'number';
const isRegionPath = (path: readonly PropertyKey[]) => path.length >= 2 && path[path.length - 2] === 'regions' && typeof path[path.length - 1] === 'number';
const isOuPath = (path: readonly PropertyKey[]) => path.length >= 2 && path[path.length - 2] === 'ous' && typeof path[path.length - 1] === 'number';

/**
 * What an entry of `ous` that is not an OU or root id probably is: an account id (which belongs under
 * `accounts`), an id in capitals (Organizations ids are lower case), an OU's name (names are not
 * unique and can be renamed, so the policy takes ids), an organization id.
 */
function ouHint(value: string): string {
  if (/^\d{12}$/.test(value)) return ': that is an account id; list it under accounts';
  if (/^o-[0-9a-z]{10,32}$/.test(value)) return ': that is an organization id; use the root id (r-…) to match the whole organization';
  if (/^(ou|r)-/i.test(value) && value !== value.toLowerCase()) return `: Organizations ids are lower case ("${value.toLowerCase()}")`;
  if (!/^(ou|r)-/.test(value)) return ': OUs are matched by id, not by name (aws organizations list-organizational-units-for-parent lists the ids)';
  return '';
}

/**
 * An account id written without quotes is a number to YAML, and a leading zero is gone before the schema
 * sees it: `012345678901` arrives as 12345678901. Say so, with the id as it must be written.
 */
function accountNumberMessage(value: number, syntax: Syntax): string {
  const quote = syntax === 'json' ? 'write account ids as strings' : 'quote account ids in YAML';
  const digits = Number.isSafeInteger(value) && value >= 0 ? String(value) : null;
  if (digits === null || digits.length > 12) return `not a 12-digit AWS account id (got ${describeValue(value)})`;
  const id = digits.padStart(12, '0');
  if (digits.length === 12) return `an account id must be a string (got the number ${digits}): ${quote} ("${id}")`;
  return `not a 12-digit AWS account id (got ${digits}): ${quote} ("${id}") so a leading zero is kept`;
}

/**
 * The problems one schema issue stands for, in the policy's words, each ending with the value found:
 * `must be one of forbidden, restricted, unrestricted (got "closed")`. Unknown keys become one problem
 * each, with the nearest known key when there is one. `root` is the schema the issue came from (for the
 * keys and bounds it knows); `syntax` decides whether quoting advice applies.
 */
export function issueProblems(issue: z.core.$ZodIssue, root: z.ZodType, syntax: Syntax, valueAt: (path: readonly PropertyKey[]) => unknown): Problem[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(root, path);
    return issue.keys.map((key) => {
      const keyPath = [...path, key];
      return { path: keyPath, message: `unknown key${didYouMean(key, known)} (got ${describeValue(valueAt(keyPath))})` };
    });
  }
  const value = valueAt(path);
  const got = ` (got ${describeValue(value)})`;
  const node = schemaAt(root, path);
  const one = (message: string): Problem[] => [{ path, message }];

  if (value === undefined) {
    const choices = issue.code === 'invalid_value' && issue.values.length > 1 ? ` (one of ${issue.values.map(String).join(', ')})` : '';
    return one(`required but missing${choices}`);
  }
  switch (issue.code) {
    case 'invalid_type': {
      if (typeof value === 'number' && isAccountPath(path)) return one(accountNumberMessage(value, syntax));
      const bounds = numberRange(node);
      if (bounds && typeof value === 'number') return one(`must be ${bounds.whole ? 'a whole number' : 'a number'}${bounds.range}${got}`);
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      // YAML reads `1234` and `true` as a number and a boolean: quoting keeps them text.
      const quote = issue.expected === 'string' && syntax === 'yaml' && (typeof value === 'number' || typeof value === 'boolean') ? `: quote it in YAML ("${String(value)}")` : '';
      return one(`must be ${expected}, got ${kindOf(value)} (${describeValue(value)})${quote}`);
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v));
      if (values.length === 1) return one(`must be ${values[0]}${got}`);
      return one(`must be one of ${values.join(', ')}${didYouMean(value, values)}${got}`);
    }
    case 'too_big':
    case 'too_small': {
      if (!isDefaultWording(issue.message)) return one(`${issue.message}${got}`);
      const bounds = numberRange(node);
      if (issue.origin === 'number' && bounds) return one(`must be ${bounds.whole ? 'a whole number' : 'a number'}${bounds.range}${got}`);
      const limit = Number(issue.code === 'too_big' ? issue.maximum : issue.minimum);
      if (issue.origin === 'string') {
        if (issue.code === 'too_small' && limit === 1) return one(`must not be empty${got}`);
        return one(`must be ${issue.code === 'too_big' ? 'at most' : 'at least'} ${limit} characters long${got}`);
      }
      if (issue.origin === 'array') return one(`must list ${issue.code === 'too_big' ? 'at most' : 'at least'} ${limit} entr${limit === 1 ? 'y' : 'ies'}${got}`);
      return one(`must be ${issue.code === 'too_big' ? 'at most' : 'at least'} ${limit}${got}`);
    }
    case 'invalid_format': {
      const what = isDefaultWording(issue.message) ? `not a valid ${issue.format}` : issue.message;
      const hint = typeof value !== 'string' ? '' : isRegionPath(path) ? didYouMean(value, AWS_REGIONS) : isOuPath(path) ? ouHint(value) : '';
      return one(`${what}${hint}${got}`);
    }
    default:
      return one(`${isDefaultWording(issue.message) ? 'not a valid value' : issue.message}${got}`);
  }
}
