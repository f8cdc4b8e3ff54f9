import ipaddr from 'ipaddr.js';
import { cidrContains, parseCidr, type Cidr } from '../policy/cidr';

/**
 * Amazon EventBridge event patterns: validation in the words of InvalidEventPatternException, and
 * matching. Pure: no I/O, no clock. No maintained npm library evaluates these patterns, so the documented
 * syntax is implemented here:
 *
 * - a leaf is a non-empty array of alternatives (OR): exact strings, numbers, booleans and null, or one
 *   operator object each: prefix, suffix (either may hold {equals-ignore-case}), equals-ignore-case,
 *   wildcard, anything-but (a value, a list, or {prefix|suffix|wildcard|equals-ignore-case}), numeric,
 *   exists, cidr;
 * - an object nests (AND over its keys); `$or` lists alternative sub-patterns of the same object;
 * - when the event holds an array, the pattern matches if any element matches. An object sub-pattern must
 *   be satisfied by one element as a whole, so fields of different elements are never mixed;
 * - exists tests for a leaf value (null counts; an object or an empty array does not), so
 *   `{"exists": false}` also matches a field that holds an object, as the documentation says.
 */

/** Numeric matching is limited to this range (and 15 significant digits), as EventBridge documents. */
export const NUMERIC_LIMIT = 5.0e9;

type Scalar = string | number | boolean | null;

type Condition =
  | { kind: 'exact'; value: Scalar }
  | { kind: 'prefix' | 'suffix' | 'equals-ignore-case'; value: string; ignoreCase: boolean }
  | { kind: 'wildcard'; regex: RegExp }
  | { kind: 'anything-but'; excludes: (leaf: Scalar) => boolean }
  | { kind: 'numeric'; lower?: { value: number; inclusive: boolean }; upper?: { value: number; inclusive: boolean } }
  | { kind: 'exists'; value: boolean }
  | { kind: 'cidr'; cidr: Cidr };

type LeafMatcher = { kind: 'leaf'; conditions: Condition[] };
type ObjectMatcher = { kind: 'object'; fields: { key: string; matcher: LeafMatcher | ObjectMatcher }[]; ors: ObjectMatcher[][] };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const json = (v: unknown) => JSON.stringify(v);

/** Collects problems while compiling; paths read like `detail.state[0]`. */
class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(path ? `${path}: ${message}` : message);
  }
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
function wildcardRegex(text: string, path: string, problems: Problems): RegExp | undefined {
  let source = '';
  let previousStar = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\') {
        problems.add(path, `Invalid escape character in wildcard pattern ${json(text)}: only \\* and \\\\ may be escaped`);
        return undefined;
      }
      source += `\\${next}`;
      i++;
      previousStar = false;
    } else if (c === '*') {
      if (previousStar) {
        problems.add(path, `Consecutive wildcard characters are not allowed in ${json(text)}`);
        return undefined;
      }
      source += '.*';
      previousStar = true;
    } else {
      source += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
      previousStar = false;
    }
  }
  return new RegExp(`^${source}$`, 's');
}

/** A string, or `{"equals-ignore-case": string}`: the operand prefix and suffix accept. */
function affix(kind: 'prefix' | 'suffix', operand: unknown, path: string, problems: Problems): Condition | undefined {
  if (typeof operand === 'string') return { kind, value: operand, ignoreCase: false };
  if (isObject(operand) && Object.keys(operand).length === 1 && typeof operand['equals-ignore-case'] === 'string') {
    return { kind, value: operand['equals-ignore-case'].toLowerCase(), ignoreCase: true };
  }
  problems.add(path, `"${kind}" match pattern must be a string or an object {"equals-ignore-case": "..."}, not ${json(operand)}`);
  return undefined;
}

function stringList(operand: unknown): string[] | undefined {
  if (typeof operand === 'string') return [operand];
  if (Array.isArray(operand) && operand.length > 0 && operand.every((v) => typeof v === 'string')) return operand as string[];
  return undefined;
}

function anythingBut(operand: unknown, path: string, problems: Problems): Condition | undefined {
  const fail = (why: string) => {
    problems.add(path, `Value of anything-but ${why}`);
    return undefined;
  };
  if (typeof operand === 'string' || typeof operand === 'number') return { kind: 'anything-but', excludes: (leaf) => leaf === operand };
  if (Array.isArray(operand)) {
    if (operand.length === 0) return fail('must not be an empty list');
    const strings = operand.every((v) => typeof v === 'string');
    const numbers = operand.every((v) => typeof v === 'number');
    if (!strings && !numbers) return fail(`must be a list of strings only or of numbers only, not ${json(operand)}`);
    const set = new Set<unknown>(operand);
    return { kind: 'anything-but', excludes: (leaf) => set.has(leaf) };
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1) return fail(`must be an object with exactly one of prefix, suffix, wildcard or equals-ignore-case, not ${json(operand)}`);
    const [key] = keys as [string];
    const inner = operand[key];
    const at = join(path, `anything-but.${key}`);
    switch (key) {
      case 'prefix':
      case 'suffix': {
        // The documentation: anything-but works with a single prefix (or suffix), not a list.
        if (typeof inner !== 'string') return fail(`${key} must be a string, not ${json(inner)}`);
        return { kind: 'anything-but', excludes: (leaf) => typeof leaf !== 'string' || (key === 'prefix' ? leaf.startsWith(inner) : leaf.endsWith(inner)) };
      }
      case 'equals-ignore-case': {
        const values = stringList(inner);
        if (!values) return fail(`equals-ignore-case must be a string or a non-empty list of strings, not ${json(inner)}`);
        const lower = new Set(values.map((v) => v.toLowerCase()));
        return { kind: 'anything-but', excludes: (leaf) => typeof leaf !== 'string' || lower.has(leaf.toLowerCase()) };
      }
      case 'wildcard': {
        const values = stringList(inner);
        if (!values) return fail(`wildcard must be a string or a non-empty list of strings, not ${json(inner)}`);
        const regexes = values.map((v) => wildcardRegex(v, at, problems));
        if (regexes.some((r) => !r)) return undefined;
        return { kind: 'anything-but', excludes: (leaf) => typeof leaf !== 'string' || regexes.some((r) => r!.test(leaf)) };
      }
      default:
        return fail(`does not support "${key}" (use prefix, suffix, wildcard or equals-ignore-case)`);
    }
  }
  return fail(`must be a string, a number, a list of either, or an object, not ${json(operand)}`);
}

const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);

function numeric(operand: unknown, path: string, problems: Problems): Condition | undefined {
  const fail = (why: string) => {
    problems.add(path, `Value of numeric ${why}`);
    return undefined;
  };
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
    return fail(`must be a list of one or two comparisons such as [">", 0, "<=", 5], not ${json(operand)}`);
  }
  const condition: Extract<Condition, { kind: 'numeric' }> = { kind: 'numeric' };
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const value = operand[i + 1];
    if (typeof op !== 'string' || !['<', '<=', '=', '>', '>='].includes(op)) return fail(`has an unknown operator ${json(op)} (use <, <=, =, > or >=)`);
    if (typeof value !== 'number' || !Number.isFinite(value)) return fail(`operator ${op} must be followed by a number, not ${json(value)}`);
    if (Math.abs(value) > NUMERIC_LIMIT) return fail(`must be between ${-NUMERIC_LIMIT} and ${NUMERIC_LIMIT} inclusive, not ${value}`);
    if (op === '=') {
      if (operand.length !== 2) return fail('"=" cannot be combined with another comparison');
      condition.lower = { value, inclusive: true };
      condition.upper = { value, inclusive: true };
    } else if (LOWER.has(op)) {
      if (condition.lower) return fail('has two lower bounds');
      condition.lower = { value, inclusive: op === '>=' };
    } else if (UPPER.has(op)) {
      if (condition.upper) return fail('has two upper bounds');
      condition.upper = { value, inclusive: op === '<=' };
    }
  }
  if (operand.length === 4) {
    if (!condition.lower || !condition.upper) return fail('range needs one lower bound (> or >=) and one upper bound (< or <=)');
    if (condition.lower.value >= condition.upper.value) return fail(`range is empty: ${condition.lower.value} is not below ${condition.upper.value}`);
  }
  return condition;
}

function operator(spec: Record<string, unknown>, path: string, problems: Problems): Condition | undefined {
  const keys = Object.keys(spec);
  if (keys.length !== 1) {
    problems.add(path, `a match expression must have exactly one key, not ${json(spec)}`);
    return undefined;
  }
  const [key] = keys as [string];
  const operand = spec[key];
  switch (key) {
    case 'prefix':
    case 'suffix':
      return affix(key, operand, path, problems);
    case 'equals-ignore-case':
      if (typeof operand === 'string') return { kind: 'equals-ignore-case', value: operand.toLowerCase(), ignoreCase: true };
      problems.add(path, `"equals-ignore-case" match pattern must be a string, not ${json(operand)}`);
      return undefined;
    case 'wildcard': {
      if (typeof operand !== 'string') {
        problems.add(path, `"wildcard" match pattern must be a string, not ${json(operand)}`);
        return undefined;
      }
      const regex = wildcardRegex(operand, path, problems);
      return regex && { kind: 'wildcard', regex };
    }
    case 'anything-but':
      return anythingBut(operand, path, problems);
    case 'numeric':
      return numeric(operand, path, problems);
    case 'exists':
      if (typeof operand === 'boolean') return { kind: 'exists', value: operand };
      problems.add(path, `exists match pattern must be either true or false, not ${json(operand)}`);
      return undefined;
    case 'cidr': {
      const cidr = typeof operand === 'string' ? parseCidr(operand) : null;
      if (cidr) return { kind: 'cidr', cidr };
      problems.add(path, `Malformed CIDR ${json(operand)}: expected an IPv4 or IPv6 block such as 10.0.0.0/24`);
      return undefined;
    }
    default:
      problems.add(path, `Unrecognized match type ${key}`);
      return undefined;
  }
}

function compileLeaf(values: unknown[], path: string, problems: Problems): LeafMatcher {
  if (values.length === 0) problems.add(path, 'Empty arrays are not allowed');
  const conditions: Condition[] = [];
  values.forEach((value, i) => {
    const at = `${path}[${i}]`;
    if (isScalar(value)) conditions.push({ kind: 'exact', value });
    else if (isObject(value)) {
      const condition = operator(value, at, problems);
      if (condition) conditions.push(condition);
    } else problems.add(at, 'Match value must be a string, number, boolean, null or an object, not an array');
  });
  return { kind: 'leaf', conditions };
}

function compileObject(pattern: Record<string, unknown>, path: string, problems: Problems): ObjectMatcher {
  const matcher: ObjectMatcher = { kind: 'object', fields: [], ors: [] };
  const keys = Object.keys(pattern);
  if (keys.length === 0) problems.add(path, path ? 'Empty objects are not allowed' : 'Event pattern must not be empty');
  for (const key of keys) {
    const value = pattern[key];
    const at = join(path, key);
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
        problems.add(at, '"$or" must be a list of at least two objects (alternative patterns)');
        continue;
      }
      matcher.ors.push(value.map((alt, i) => compileObject(alt, `${at}[${i}]`, problems)));
    } else if (Array.isArray(value)) {
      matcher.fields.push({ key, matcher: compileLeaf(value, at, problems) });
    } else if (isObject(value)) {
      matcher.fields.push({ key, matcher: compileObject(value, at, problems) });
    } else {
      problems.add(at, `"${key}" must be an object or an array, not ${json(value)}`);
    }
  }
  return matcher;
}

function compile(pattern: unknown): { matcher?: ObjectMatcher; problems: string[] } {
  const problems = new Problems();
  if (!isObject(pattern)) return { problems: [`Event pattern must be a JSON object, not ${json(pattern) ?? String(pattern)}`] };
  const matcher = compileObject(pattern, '', problems);
  return problems.list.length ? { problems: problems.list } : { matcher, problems: [] };
}

/**
 * Every reason EventBridge would refuse `pattern` (a parsed JSON value) with InvalidEventPatternException,
 * each prefixed by the JSON path it concerns (`detail.state[0]: ...`); empty when the pattern is valid.
 */
export function validateEventPattern(pattern: unknown): string[] {
  return compile(pattern).problems;
}

// Patterns are few and reused for every event, so each parsed pattern object is compiled once.
const compiled = new WeakMap<object, ObjectMatcher>();

function compiledMatcher(pattern: unknown): ObjectMatcher {
  const known = isObject(pattern) ? compiled.get(pattern) : undefined;
  if (known) return known;
  const { matcher, problems } = compile(pattern);
  if (!matcher) throw new RangeError(`invalid event pattern: ${problems.join('; ')}`);
  compiled.set(pattern as object, matcher);
  return matcher;
}

/** The leaf values at a field: arrays (nested too) are flattened; objects are not leaves. */
function leaves(value: unknown, out: Scalar[] = []): Scalar[] {
  if (Array.isArray(value)) for (const v of value) leaves(v, out);
  else if (isScalar(value)) out.push(value);
  return out;
}

function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv6.isValid(text) && !text.includes('%')) return ipaddr.IPv6.parse(text);
  return undefined;
}

function inCidr(cidr: Cidr, leaf: string): boolean {
  const ip = parseIp(leaf);
  if (!ip) return false;
  const block = parseCidr(`${leaf}/${ip.kind() === 'ipv4' ? 32 : 128}`);
  return block !== null && cidrContains(cidr, block);
}

function conditionMatches(c: Exclude<Condition, { kind: 'exists' }>, leaf: Scalar): boolean {
  switch (c.kind) {
    case 'exact':
      return leaf === c.value;
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case': {
      if (typeof leaf !== 'string') return false;
      const text = c.ignoreCase ? leaf.toLowerCase() : leaf;
      return c.kind === 'prefix' ? text.startsWith(c.value) : c.kind === 'suffix' ? text.endsWith(c.value) : text === c.value;
    }
    case 'wildcard':
      return typeof leaf === 'string' && c.regex.test(leaf);
    case 'anything-but':
      return !c.excludes(leaf);
    case 'numeric':
      if (typeof leaf !== 'number') return false;
      if (c.lower && (c.lower.inclusive ? leaf < c.lower.value : leaf <= c.lower.value)) return false;
      if (c.upper && (c.upper.inclusive ? leaf > c.upper.value : leaf >= c.upper.value)) return false;
      return true;
    case 'cidr':
      return typeof leaf === 'string' && inCidr(c.cidr, leaf);
  }
}

function leafMatches(m: LeafMatcher, value: unknown): boolean {
  const found = leaves(value);
  return m.conditions.some((c) => (c.kind === 'exists' ? c.value === found.length > 0 : found.some((leaf) => conditionMatches(c, leaf))));
}

function objectMatches(m: ObjectMatcher, value: unknown): boolean {
  // An array of objects matches when one element satisfies the whole sub-pattern.
  if (Array.isArray(value) && value.length > 0) return value.some((element) => objectMatches(m, element));
  const record = isObject(value) ? value : {};
  return (
    m.fields.every(({ key, matcher }) => {
      const field = Object.hasOwn(record, key) ? record[key] : undefined;
      return matcher.kind === 'leaf' ? leafMatches(matcher, field) : objectMatches(matcher, field);
    }) && m.ors.every((alternatives) => alternatives.some((alt) => objectMatches(alt, value)))
  );
}

/**
 * True when `event` (a parsed EventBridge event, or any JSON document) matches `pattern`. Throws a
 * RangeError naming the problems when the pattern is invalid; validate first with validateEventPattern
 * where input comes from users.
 */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  return objectMatches(compiledMatcher(pattern), event);
}
