/**
 * Cluster name globs: `*` is any run of characters (including none), `?` is exactly one character,
 * everything else is itself, case-sensitive, and the glob must match the whole name.
 *
 * Why a hand-written matcher rather than picomatch (or any RegExp): those compile `*` to `.*` and let a
 * backtracking regex engine run it, which takes time exponential in the number of stars when a name
 * almost matches (a 10-star glob against a 100-character name took minutes). A policy file is written by
 * people but read by the guard on every event, so one careless glob must not be able to stall it. With
 * only two wildcards, the classic greedy algorithm is short and provably O(name × glob): on a mismatch it
 * goes back to the most recent star only, never to earlier ones, because any way of placing the earlier
 * stars that works can be shifted to the leftmost placement the greedy pass already found.
 */

const STAR = 42; // '*'
const QUESTION = 63; // '?'

/**
 * True when `name` matches `glob` as a whole (`*` any run including empty, `?` one character,
 * case-sensitive). Runs in O(name.length × glob.length) time in the worst case and constant extra
 * space, whatever the number of stars; the glob is not checked for other syntax, as every character
 * other than `*` and `?` is literal.
 */
export function globMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  // Where the last star was seen in the glob, and the name position it currently absorbs up to.
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const c = g < glob.length ? glob.charCodeAt(g) : -1;
    if (c === STAR) {
      star = g;
      resume = n;
      g += 1;
    } else if (c !== -1 && (c === QUESTION || c === name.charCodeAt(n))) {
      g += 1;
      n += 1;
    } else if (star !== -1) {
      // Let the last star absorb one more character and retry what follows it.
      g = star + 1;
      resume += 1;
      n = resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob.charCodeAt(g) === STAR) g += 1;
  return g === glob.length;
}

/** A glob turned into a predicate once, so matching a name does no per-call analysis of the glob. */
export type GlobMatcher = (name: string) => boolean;

/**
 * Compiles a glob into a predicate equal to `globMatches(glob, ·)`. The common shapes (no wildcard,
 * `prefix*`, `*suffix`, `*` alone) become a plain string comparison; other star-only globs one pass
 * of `indexOf` over their literal pieces; globs with `?` check the length and the literal runs before
 * running `globMatches`. Every form is linear or O(name × glob) at worst.
 */
export function compileGlob(glob: string): GlobMatcher {
  const stars = glob.split('*').length - 1;
  const minLength = glob.length - stars;
  if (!glob.includes('?')) {
    if (stars === 0) return (name) => name === glob;
    if (minLength === 0) return () => true;
    if (stars === 1 && glob.endsWith('*')) {
      const prefix = glob.slice(0, -1);
      return (name) => name.startsWith(prefix);
    }
    if (stars === 1 && glob.startsWith('*')) {
      const suffix = glob.slice(1);
      return (name) => name.endsWith(suffix);
    }
    // Stars only: the literal pieces between them must appear in order, the first at the start and the
    // last at the end. Placing each middle piece at its leftmost occurrence after the previous one is
    // never worse than any other placement, so one left-to-right pass of indexOf decides.
    const pieces = glob.split('*');
    const first = pieces[0]!;
    const last = pieces[pieces.length - 1]!;
    const middle = pieces.slice(1, -1).filter((p) => p !== '');
    return (name) => {
      if (name.length < minLength || !name.startsWith(first) || !name.endsWith(last)) return false;
      const end = name.length - last.length;
      let at = first.length;
      for (const piece of middle) {
        const found = name.indexOf(piece, at);
        if (found === -1 || found + piece.length > end) return false;
        at = found + piece.length;
      }
      return true;
    };
  }
  // Cheap necessary conditions first: a name shorter than the glob's non-star characters, or missing
  // one of its literal runs, cannot match. Most names a rule is tried on fail here, in native code.
  const runs = glob
    .split(/[*?]+/)
    .filter((run) => run !== '')
    .sort((a, b) => b.length - a.length);
  return (name) => name.length >= minLength && (stars > 0 || name.length === minLength) && runs.every((run) => name.includes(run)) && globMatches(glob, name);
}
