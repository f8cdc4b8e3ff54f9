/**
 * The quick commands, which read a file or two and print a verdict: bundled on their own as CommonJS
 * (scripts/build-cli.mjs), so that src/cli/main.ts can compile them with V8's code cache
 * (src/cli/compile-cache.ts). Only the command named is registered; `--help` and every other command
 * run the whole CLI (src/cli/full.ts), registered on a program made the same way (src/cli/program.ts).
 */
import type { Command } from 'commander';
import { registerCheckCommand, registerValidateCommand } from './commands/policy';
import { registerScpCommand } from './commands/scp';
import { registerTriageCommand } from './commands/triage';
import { createProgram } from './program';
import { isQuickCommand, type QuickCommand } from './quick-commands';

const COMMANDS: Record<QuickCommand, (program: Command) => void> = {
  validate: registerValidateCommand,
  check: registerCheckCommand,
  triage: registerTriageCommand,
  scp: registerScpCommand,
};

/** Runs `argv` (process.argv), whose command (argv[2]) is one of QUICK_COMMANDS. */
export async function run(argv: string[]): Promise<void> {
  const command = argv[2];
  if (!isQuickCommand(command)) throw new Error(`not a quick command: ${command}`);
  const program = createProgram();
  COMMANDS[command](program);
  await program.parseAsync(argv);
}
