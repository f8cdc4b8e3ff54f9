import { readFile } from 'node:fs/promises';
import { GuardError, InputError } from '../errors';

/** Exit codes shared by every command. */
export const EXIT = { OK: 0, VIOLATION: 1, BAD_INPUT: 2 } as const;

/** Reads a file as text, turning a missing or unreadable file into an InputError that names it. */
export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new InputError([`${what} ${path}: ${why}`], { cause: err });
  }
}

/** Reads a JSON (or YAML, which is a superset) document from a file. */
export async function readDocument(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  const json = path.endsWith('.json');
  // The YAML parser is loaded only for a file that needs it: `triage` reads JSON events and starts without it.
  const parseYaml = json ? null : (await import('./yaml')).parse;
  try {
    return parseYaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new InputError([`${what} ${path}: not valid ${json ? 'JSON' : 'YAML/JSON'}: ${(err as Error).message.split('\n')[0]}`], { cause: err });
  }
}

/** Prints a value as pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Runs a command body and maps errors to exit codes: our own errors print one line per problem on
 * stderr and exit 2; anything else is a bug, printed with its stack and exit 2 as well.
 */
export async function runCommand(body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (err) {
    if (err instanceof GuardError) {
      const problems = 'problems' in err && Array.isArray(err.problems) ? (err.problems as string[]) : [err.message];
      for (const p of problems) process.stderr.write(`error: ${p}\n`);
    } else {
      process.stderr.write(`error: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    process.exitCode = EXIT.BAD_INPUT;
  }
}

/** Every required option that is missing, as one problem each (commander stops at the first). */
export function missingOptions(opts: Record<string, unknown>, required: Record<string, string>): string[] {
  return Object.entries(required)
    .filter(([key]) => opts[key] === undefined)
    .map(([, flag]) => `required option '${flag}' not specified`);
}

/**
 * Settles independent loads together and reports every problem of all of them at once, rather than
 * only the first to fail; returns the values when all succeed.
 */
export async function loadAll<T extends readonly unknown[]>(loads: { [K in keyof T]: Promise<T[K]> }, extra: string[] = []): Promise<T> {
  const settled = await Promise.allSettled(loads as readonly Promise<unknown>[]);
  const problems = [...extra];
  for (const s of settled) {
    if (s.status === 'fulfilled') continue;
    const err = s.reason as { problems?: unknown; message?: string };
    if (!(s.reason instanceof GuardError)) throw s.reason;
    problems.push(...(Array.isArray(err.problems) ? (err.problems as string[]) : [String(err.message)]));
  }
  if (problems.length > 0) throw new InputError(problems);
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
