/** The whole CLI: every command registered, in the order `--help` lists them. */
import { registerValidateCommand, registerCheckCommand } from './commands/policy';
import { registerTriageCommand } from './commands/triage';
import { registerEmulatorCommand } from './commands/emulator';
import { registerDemoCommand, registerSimulateCommand } from './commands/local';
import { registerScpCommand } from './commands/scp';
import { registerReportCommand } from './commands/report';
import { registerRedriveCommand } from './commands/redrive';
import { createProgram } from './program';

/** Runs `argv` (process.argv) with every command registered. */
export async function runCli(argv: string[]): Promise<void> {
  const program = createProgram();
  registerValidateCommand(program);
  registerCheckCommand(program);
  registerTriageCommand(program);
  registerEmulatorCommand(program);
  registerSimulateCommand(program);
  registerDemoCommand(program);
  registerScpCommand(program);
  registerReportCommand(program);
  registerRedriveCommand(program);
  await program.parseAsync(argv);
}
