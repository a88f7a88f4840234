import type { Command } from 'commander';
import { loadPolicy } from '../../adapters/config-files.ts';
import {
  bindingLabel,
  licenceLabel,
  listRules,
  PARAMETER_STALE_DAYS,
  policyInForce,
  type RuleListing,
  seriesValueAt,
} from '../../domain/policy/resolve.ts';
import { isIsoDate } from '../../domain/tape/values.ts';
import { ConfigError } from '../../errors.ts';
import { formatTable } from './runs.ts';

export interface RulesOptions {
  /** The tape date to resolve the rules on (default: today, UTC). */
  date?: string;
  /** A rule pack, lender profile or risk appetite replacing the default one of its kind. */
  policy?: string;
  json?: boolean;
}

const STATUS_TITLES: Record<RuleListing['status'], string> = {
  in_force: 'In force',
  not_in_force: 'Not yet in force',
  not_applicable: 'Not applicable',
};

const daysBetween = (a: string, b: string): number =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);

function sourceCell(r: RuleListing): string {
  return `${r.source.title}, ${r.source.number ?? 'no public number'} (${bindingLabel(r.source.binding)})`;
}

/**
 * The rules of the active pack for its lender on a date, as a compliance officer checks them
 * before trusting a night's audit: what is in force with its threshold and source, what is off and
 * why, and the dated parameters with the date they were last checked. Returns the text printed.
 */
export async function describeRules(options: RulesOptions): Promise<string> {
  const date = options.date ?? new Date().toISOString().slice(0, 10);
  if (!isIsoDate(date)) throw new ConfigError(`--date must be a date YYYY-MM-DD, got ${date}`);
  const loaded = await loadPolicy(options.policy);
  const lender = loaded.rulePack.lender;
  // Rules read on the pack's own currency: a tape in another leaves the amount rules out.
  const policy = policyInForce(loaded, date, lender.currency);
  const rules = listRules(policy);
  const parameters = policy.rulePack.parameters.map((p) => {
    const days = daysBetween(p.checkedOn, date);
    return {
      code: p.code,
      description: p.description,
      valueOnDate: seriesValueAt(p, date),
      checkedOn: p.checkedOn,
      daysSinceChecked: days,
      stale: days > PARAMETER_STALE_DAYS,
      source: p.source,
    };
  });
  if (options.json === true) {
    return `${JSON.stringify(
      {
        date,
        pack: { name: policy.rulePack.name, version: policy.rulePack.version },
        lender,
        policyFiles: policy.sources,
        rules,
        parameters,
      },
      null,
      2,
    )}\n`;
  }
  const lines = [
    `Rule pack ${policy.rulePack.name} ${policy.rulePack.version} for ${licenceLabel(lender.licence)}, amounts in ${lender.currency}, on ${date}`,
    `  policy files: ${policy.sources.join(', ')}`,
  ];
  for (const status of ['in_force', 'not_in_force', 'not_applicable'] as const) {
    const list = rules.filter((r) => r.status === status);
    lines.push('', `${STATUS_TITLES[status]} (${list.length})`);
    if (list.length === 0) continue;
    lines.push(
      status === 'in_force'
        ? formatTable(
            ['code', 'severity', 'threshold', 'effective', 'source'],
            list.map((r) => [r.code, r.severity, r.threshold, r.effectiveDate, sourceCell(r)]),
          )
        : formatTable(
            ['code', 'why', 'source'],
            list.map((r) => [r.code, r.reason ?? '', sourceCell(r)]),
          ),
    );
  }
  if (parameters.length > 0) {
    lines.push(
      '',
      'Dated parameters',
      formatTable(
        ['code', 'value on date', 'checked on', 'what'],
        parameters.map((p) => [
          p.code,
          p.valueOnDate === null ? 'none' : String(p.valueOnDate),
          `${p.checkedOn}${p.stale ? ` (stale: ${p.daysSinceChecked} days)` : ''}`,
          `${p.description}: ${p.source.title}`,
        ]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `risk-audit rules`: the rules in force on a date for the pack's lender. */
export function registerRules(program: Command): void {
  program
    .command('rules')
    .description(
      "List the rule pack's rules for its lender on a date: in force (threshold, source, effective date), not yet in force, not applicable and why",
    )
    .option('--date <YYYY-MM-DD>', 'the tape date to read the rules on (default: today)')
    .option(
      '--policy <file>',
      'a rule pack, lender profile or risk appetite replacing the default one of its kind',
    )
    .option('--json', 'print JSON for machines instead of tables')
    .action(async (opts: RulesOptions) => {
      process.stdout.write(await describeRules(opts));
    });
}
