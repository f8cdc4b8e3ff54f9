// Runs only the emulator command, so its tests do not depend on the other commands being built.
import { Command, type CommanderError } from 'commander';
import { registerEmulatorCommand } from '../../src/cli/commands/emulator';

const program = new Command('eks-endpoint-guard').exitOverride((err: CommanderError) => process.exit(err.code === 'commander.helpDisplayed' ? 0 : 2));
registerEmulatorCommand(program);
await program.parseAsync(process.argv);
