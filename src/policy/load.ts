import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PolicyError } from '../errors';
import { compiledPolicy } from './compile';
import { EKS_MAX_PUBLIC_CIDRS, policySchema, type Policy } from './schema';

/** Formats a schema path as people write it: `rules[2].allowedPublicCidrs[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function valueAt(doc: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = doc;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function issueLines(issue: z.core.$ZodIssue, doc: unknown): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return `${formatPath(path)}: unknown key (value: ${describeValue(valueAt(doc, path))})`;
    });
  }
  const value = valueAt(doc, issue.path);
  if (value === undefined && issue.code === 'invalid_type') return [`${formatPath(issue.path)}: required but missing`];
  return [`${formatPath(issue.path)}: ${issue.message} (value: ${describeValue(value)})`];
}

type SettingsFields = { publicAccess?: unknown; allowedPublicCidrs?: unknown; maxPublicCidrs?: unknown };
const asObject = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * Checks what the schema cannot see one field at a time: for the defaults and each rule as overlaid on
 * them, that `restricted` has an allowlist and that the allowlist fits the limit. Works on the raw
 * document, using only values of the right type, so these errors are reported alongside schema errors
 * rather than after they are fixed.
 */
function crossFieldProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const defaults = asObject(doc.defaults) as SettingsFields;
  const resolve = (s: SettingsFields, base?: { publicAccess: unknown; cidrs: unknown[]; max: number }) => ({
    publicAccess: s.publicAccess ?? base?.publicAccess,
    cidrs: Array.isArray(s.allowedPublicCidrs) ? s.allowedPublicCidrs : s.allowedPublicCidrs === undefined ? (base?.cidrs ?? []) : null,
    max: typeof s.maxPublicCidrs === 'number' ? s.maxPublicCidrs : s.maxPublicCidrs === undefined ? (base?.max ?? EKS_MAX_PUBLIC_CIDRS) : null,
  });
  const check = (r: ReturnType<typeof resolve>, cidrPath: string) => {
    if (r.publicAccess === 'restricted' && r.cidrs !== null && r.cidrs.length === 0) {
      problems.push(`${cidrPath}: publicAccess is restricted but allowedPublicCidrs is empty or missing (value: ${describeValue(r.cidrs)})`);
    }
    if (r.cidrs !== null && r.max !== null && r.cidrs.length > r.max) {
      problems.push(`${cidrPath}: ${r.cidrs.length} CIDR blocks exceed maxPublicCidrs ${r.max} (value: ${describeValue(r.cidrs)})`);
    }
  };
  const base = resolve(defaults);
  check(base, 'defaults.allowedPublicCidrs');
  const rules = Array.isArray(doc.rules) ? doc.rules : [];
  rules.forEach((entry: unknown, i) => {
    const rule = asObject(entry) as SettingsFields;
    // A rule that never mentions CIDRs inherits a problem of the defaults; report it once, at the defaults.
    if (rule.publicAccess === undefined && rule.allowedPublicCidrs === undefined && rule.maxPublicCidrs === undefined) return;
    if (base.cidrs === null || base.max === null) return;
    check(resolve(rule, { publicAccess: base.publicAccess, cidrs: base.cidrs, max: base.max }), `rules[${i}].allowedPublicCidrs`);
  });
  return problems;
}

/**
 * Names must be unique among rules and among exemptions: alerts and `check` output identify them by name.
 * Checked on the raw document so the error is reported even when other fields are invalid.
 */
function duplicateNameProblems(doc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const kind of ['rules', 'exemptions'] as const) {
    const list = doc[kind];
    if (!Array.isArray(list)) continue;
    const seen = new Map<string, number>();
    list.forEach((entry: unknown, i) => {
      const name = entry !== null && typeof entry === 'object' ? (entry as { name?: unknown }).name : undefined;
      if (typeof name !== 'string') return;
      const first = seen.get(name);
      if (first === undefined) seen.set(name, i);
      else problems.push(`${kind}[${i}].name: duplicate name (value: ${describeValue(name)}), already used by ${kind}[${first}]`);
    });
  }
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Validates an already-parsed policy document and returns it with defaults filled in. Throws a
 * `PolicyError` listing every problem, each naming its path and value; never returns a partial policy.
 * The result is deeply frozen and already compiled (globs, account and region sets, parsed allowlists,
 * exemption instants, kept beside it rather than on it), so evaluating clusters against it parses
 * nothing; freezing is what guarantees that compiled form can never disagree with the policy.
 */
export function validatePolicy(doc: unknown): Policy {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PolicyError([`(top level): a policy must be a mapping with version, defaults, rules, exemptions (value: ${describeValue(doc)})`]);
  }
  const raw = doc as Record<string, unknown>;
  const parsed = policySchema.safeParse(doc, { reportInput: true });
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap((issue) => issueLines(issue, doc))),
    ...crossFieldProblems(raw),
    ...duplicateNameProblems(raw),
  ];
  if (problems.length > 0 || !parsed.success) throw new PolicyError(problems);
  const policy = deepFreeze(parsed.data);
  compiledPolicy(policy);
  return policy;
}

/**
 * Parses policy text (YAML, of which JSON is a subset) and validates it. `source` names the file in
 * messages. Syntax errors carry their line and column. The policy returned is frozen and compiled, as
 * `validatePolicy` describes; it prints and serializes as the plain validated document.
 */
export function parsePolicy(text: string, source = 'policy'): Policy {
  let doc: unknown;
  if (source.endsWith('.json')) {
    try {
      doc = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new PolicyError([`${source}: not valid JSON: ${(err as Error).message.split('\n')[0]}`], { cause: err });
    }
  } else {
    // The core schema keeps `expires: 2027-03-31` a date string even under a `%YAML 1.1` directive,
    // which would otherwise make it a Date at midnight and end the exemption a day early.
    const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true, schema: 'core' });
    if (document.errors.length > 0) {
      throw new PolicyError(document.errors.map((e) => `${source}: not valid YAML: ${e.message.split('\n')[0]!.replace(/:$/, '')}`));
    }
    try {
      doc = document.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // An alias without an anchor (an unquoted `*-prod` glob) or an alias bomb.
      const hint = /Unresolved alias/.test((err as Error).message) ? ' (quote globs that start with *, e.g. "*-prod")' : '';
      throw new PolicyError([`${source}: not valid YAML: ${(err as Error).message}${hint}`], { cause: err });
    }
  }
  try {
    return validatePolicy(doc);
  } catch (err) {
    if (err instanceof PolicyError) throw new PolicyError(err.problems.map((p) => `${source}: ${p}`), { cause: err.cause });
    throw err;
  }
}
