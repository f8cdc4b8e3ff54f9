import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { PolicyError } from '../errors';
import { policySchema, type Policy } from './schema';

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

/**
 * Checks what the schema cannot see one field at a time: for the defaults and each
 * rule as overlaid on them, that `restricted` has an allowlist and that the allowlist fits the limit.
 */
function crossFieldProblems(policy: Policy): string[] {
  const problems: string[] = [];
  const checkSettings = (s: { publicAccess: string; allowedPublicCidrs: string[]; maxPublicCidrs: number }, cidrPath: string) => {
    if (s.publicAccess === 'restricted' && s.allowedPublicCidrs.length === 0) {
      problems.push(`${cidrPath}: publicAccess is restricted but allowedPublicCidrs is empty or missing (value: ${describeValue(s.allowedPublicCidrs)})`);
    }
    if (s.allowedPublicCidrs.length > s.maxPublicCidrs) {
      problems.push(`${cidrPath}: ${s.allowedPublicCidrs.length} CIDR blocks exceed maxPublicCidrs ${s.maxPublicCidrs} (value: ${describeValue(s.allowedPublicCidrs)})`);
    }
  };
  checkSettings(policy.defaults, 'defaults.allowedPublicCidrs');
  policy.rules.forEach((rule, i) => {
    const overlaid = {
      publicAccess: rule.publicAccess ?? policy.defaults.publicAccess,
      allowedPublicCidrs: rule.allowedPublicCidrs ?? policy.defaults.allowedPublicCidrs,
      maxPublicCidrs: rule.maxPublicCidrs ?? policy.defaults.maxPublicCidrs,
    };
    // A rule that never mentions CIDRs inherits a problem of the defaults; report it once, at the defaults.
    const inheritsOnly = rule.publicAccess === undefined && rule.allowedPublicCidrs === undefined && rule.maxPublicCidrs === undefined;
    if (!inheritsOnly) checkSettings(overlaid, `rules[${i}].allowedPublicCidrs`);
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

/**
 * Validates an already-parsed policy document and returns it with defaults filled in. Throws a
 * `PolicyError` listing every problem, each naming its path and value; never returns a partial policy.
 */
export function validatePolicy(doc: unknown): Policy {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PolicyError([`(top level): a policy must be a mapping with version, defaults, rules, exemptions (value: ${describeValue(doc)})`]);
  }
  const duplicates = duplicateNameProblems(doc as Record<string, unknown>);
  const parsed = policySchema.safeParse(doc, { reportInput: true });
  if (!parsed.success) throw new PolicyError([...parsed.error.issues.flatMap((issue) => issueLines(issue, doc)), ...duplicates]);
  const problems = [...crossFieldProblems(parsed.data), ...duplicates];
  if (problems.length > 0) throw new PolicyError(problems);
  return parsed.data;
}

/**
 * Parses policy text (YAML, of which JSON is a subset) and validates it. `source` names the file in
 * messages. Syntax errors carry their line and column.
 */
export function parsePolicy(text: string, source = 'policy'): Policy {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PolicyError(document.errors.map((e) => `${source}: not valid YAML/JSON: ${e.message.split('\n')[0]}`));
  }
  try {
    return validatePolicy(document.toJS());
  } catch (err) {
    if (err instanceof PolicyError) throw new PolicyError(err.problems.map((p) => `${source}: ${p}`), { cause: err.cause });
    throw err;
  }
}
