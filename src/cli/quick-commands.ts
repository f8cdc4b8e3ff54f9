/**
 * The commands run from the quick bundle (src/cli/quick.ts): what src/cli/main.ts reads to choose a
 * bundle before loading either.
 */
export const QUICK_COMMANDS = ['validate', 'check', 'triage', 'scp'] as const;

export type QuickCommand = (typeof QUICK_COMMANDS)[number];

export function isQuickCommand(name: string | undefined): name is QuickCommand {
  return (QUICK_COMMANDS as readonly string[]).includes(name ?? '');
}
