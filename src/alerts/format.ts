/**
 * Small text helpers for alerts. Everything that reaches an alert from outside (cluster names, ARNs, user
 * agents, AWS error messages, stack traces) goes through them, because an alert must stay readable and
 * inside SNS limits whatever the input holds. Pure: no clock, no environment.
 */

// C0 and C1 control characters and the Unicode line/paragraph separators. Kept out of alerts because SNS
// refuses them in subjects, mail clients and terminals may interpret them, and JSON escapes each one to
// six bytes (`\u0001`), which would defeat the size budget.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/g;
// Characters that draw nothing or reorder the text around them: bidirectional overrides, embeddings and
// isolates, zero-width spaces and joiners, the byte-order mark, invisible tag characters, fillers and
// variation selectors (Unicode's Cf category and its default-ignorable code points). In a cluster name,
// a tag or an ARN they can make an alert read differently from what it says (U+202E shows the rest of a
// line backwards), so they are shown by code point rather than dropped: the reader sees the trick.
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/**
 * Shortens `text` to at most `max` UTF-16 units, ending in `...` when cut. Never splits a surrogate pair,
 * so the result is always valid Unicode (a lone surrogate would be replaced by U+FFFD on the wire).
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 3) return cutAt(text, Math.max(0, max));
  return `${cutAt(text, max - 3).trimEnd()}...`;
}

/**
 * Like `clip`, but cuts at a space when one is near the end, so a shortened subject does not end in
 * half a word that reads as something else.
 */
export function clipWords(text: string, max: number): string {
  if (text.length <= max || max <= 3) return clip(text, max);
  const cut = cutAt(text, max - 3);
  const space = cut.lastIndexOf(' ');
  return `${(space >= max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, '')}...`;
}

function cutAt(text: string, end: number): string {
  const code = text.charCodeAt(end - 1);
  // A high surrogate at the cut would be left without its pair.
  return code >= 0xd800 && code <= 0xdbff ? text.slice(0, end - 1) : text.slice(0, end);
}

/**
 * Invisible and direction-changing characters written out as `<U+202E>`, so text from outside cannot
 * hide words from the reader or make them appear in another order. The marks are plain ASCII, so
 * applying this twice changes nothing.
 */
export function showInvisible(text: string): string {
  return text.replace(INVISIBLE, (ch) => `<U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`);
}

/**
 * One line of untrusted text: control characters and line breaks become spaces, invisible characters
 * are shown (`showInvisible`), runs of spaces collapse, and the result is clipped to `max`. Used for
 * every value placed in a labelled field, so a crafted user agent or error message cannot fake extra
 * lines in the alert or hide what it says.
 */
export function oneLine(value: unknown, max = 500): string {
  const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
  // Invisible characters first: JavaScript's \s counts U+FEFF as a space and would swallow it unseen.
  return clip(showInvisible(text.replace(CONTROL, ' ')).replace(/\s+/g, ' ').trim(), max);
}

/**
 * Multi-line untrusted text (an override of the exemption how-to, an AWS error cause): line breaks are
 * kept (CRLF normalised), other control characters become spaces, invisible characters are shown, the
 * whole is clipped to `max`.
 */
export function multiLine(value: string, max: number): string {
  return clip(showInvisible(value.replace(/\r\n?/g, '\n').replace(CONTROL_BUT_NEWLINE, ' ')).trimEnd(), max);
}

/**
 * Printable ASCII only (anything else becomes `?`): SNS accepts only ASCII text in a subject, and an
 * email subject with raw UTF-8 is mangled by some gateways.
 */
export function asciiOnly(text: string): string {
  return text.replace(NOT_PRINTABLE_ASCII, '?');
}

/**
 * A duration for people: `42s`, `4m 12s`, `1h 5m 0s`, `2d 3h 4m`. Negative or non-finite input (a clock
 * skew between CloudTrail and the Lambda) reads as `unknown` rather than as a nonsense number.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'unknown';
  const s = Math.round(seconds);
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3_600);
  const minutes = Math.floor((s % 3_600) / 60);
  const secs = s % 60;
  if (days > 0) return `${days}d ${hours}h ${minutes}m`;
  if (hours > 0) return `${hours}h ${minutes}m ${secs}s`;
  if (minutes > 0) return `${minutes}m ${secs}s`;
  return `${secs}s`;
}

/** An epoch-ms instant as ISO 8601 UTC, or `unknown` when it is not a valid time (`toISOString` would throw). */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'unknown' : date.toISOString();
}

/**
 * At most `max` items, then one `... and N more` entry: lists that come from AWS or from a policy (CIDRs,
 * violations, update errors) are bounded so one alert always fits in an SNS message.
 */
export function bounded(items: readonly string[], max: number): string[] {
  if (items.length <= max) return [...items];
  return [...items.slice(0, max), `... and ${items.length - max} more`];
}

/**
 * Wraps prose to `width` columns at spaces, each line prefixed with `indent`. Words longer than the width
 * (ARNs, URLs) stay whole on their own line, because a broken ARN cannot be copied.
 */
export function wrap(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line || lines.length === 0) lines.push(indent + line);
  return lines;
}

/**
 * Quotes a word for a POSIX shell when it needs it, so a command printed in an alert can be pasted as is.
 * EKS names and ARNs are normally safe; anything else (an odd input) is single-quoted.
 */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9._/:=@+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Text for inside a markdown code span: backticks would end the span early, so they are dropped. */
export function codeSpan(text: string): string {
  const inner = text.replace(/`/g, "'");
  return inner ? `\`${inner}\`` : '';
}
