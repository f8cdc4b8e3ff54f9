/**
 * A one-line progress bar on a terminal: `[##########..........] 12/24 calls`, redrawn in place. Only for a
 * TTY (a pipe or a CI log would fill with carriage returns), and redrawn at most every 100 ms. Twenty
 * lines rather than a dependency: there is nothing here a library would do better.
 */
export type ProgressStream = { isTTY?: boolean; columns?: number; write(text: string): unknown };

export type ProgressBar = { update(done: number, total: number): void; finish(): void };

const NOOP: ProgressBar = { update: () => {}, finish: () => {} };

export function progressBar(stream: ProgressStream, label = 'calls', now: () => number = Date.now): ProgressBar {
  if (!stream.isTTY) return NOOP;
  let last = -Infinity;
  let drawn = false;
  return {
    update(done, total) {
      if (done < total && now() - last < 100) return;
      last = now();
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 30));
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      stream.write(`\r\u001b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`);
      drawn = true;
    },
    finish() {
      // Clear the line so that what follows on stderr (or the table on the same terminal) starts clean.
      if (drawn) stream.write('\r\u001b[2K');
    },
  };
}
