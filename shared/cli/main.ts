import { Command, CommanderError } from 'commander';
import { toSentence } from '../errors.ts';
import { registerCommands } from './commands/index.ts';

// The CLI runs on the machine's Node 20; Lambda runs the newest runtime, so the SDK's notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Builds the `risk-audit` program with every command registered. */
export function buildProgram(): Command {
  const program = new Command('risk-audit')
    .description(
      "Audit a digital lender's loan book: credit, regulatory, concentration, vulnerability, data and liquidity risk.",
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Runs the CLI: every failure becomes one readable sentence on stderr and a non-zero exit, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (unknown option, missing argument, help).
      return error.exitCode;
    }
    process.stderr.write(`risk-audit: ${toSentence(error)}\n`);
    if (process.env.RISK_AUDIT_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

const isEntry =
  process.argv[1] !== undefined && /(?:cli[\\/]main\.ts|risk-audit(?:\.js)?)$/.test(process.argv[1]);
if (isEntry) {
  process.exitCode = await main(process.argv.slice(2));
}
