import type { Command } from 'commander';
import { registerDemo } from './demo.ts';
import { registerGenerate } from './generate.ts';
import { registerHistory } from './history.ts';
import { registerInvoke } from './invoke.ts';
import { registerRules } from './rules.ts';
import { registerRun } from './run.ts';
import { registerRuns } from './runs.ts';
import { registerScore } from './score.ts';
import { registerWatchlist } from './watchlist.ts';

/** Registers every `risk-audit` command on the program. */
export function registerCommands(program: Command): void {
  registerDemo(program);
  registerRun(program);
  registerScore(program);
  registerGenerate(program);
  registerRules(program);
  registerInvoke(program);
  registerRuns(program);
  registerHistory(program);
  registerWatchlist(program);
}
