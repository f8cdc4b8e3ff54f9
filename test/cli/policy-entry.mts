/**
 * Stand-in for src/cli/main.ts while the full CLI bundle cannot be built yet (other commands in progress):
 * registers only `validate` and `check`, with main.ts's mapping of usage errors to exit 2.
 * Run as `node --import tsx test/cli/policy-entry.mts ...`; used by policy-cli.test.ts only when `npm run build` fails.
 */
import { Command, CommanderError } from 'commander';
import { registerCheckCommand, registerValidateCommand } from '../../src/cli/commands/policy';
import { EXIT } from '../../src/cli/io';

const program = new Command('eks-endpoint-guard').exitOverride((err: CommanderError) => {
  process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.help' ? EXIT.OK : EXIT.BAD_INPUT);
});
registerValidateCommand(program);
registerCheckCommand(program);
await program.parseAsync(process.argv);
