/**
 * The ratings section against the risk appetite: the figures its metrics read (the sections
 * already built, the breaches, and outstanding in fen of the parts of the book a share measures),
 * each threshold rating its metric red when strictly beyond `red`, else amber when strictly beyond
 * `amber`; a category is its worst threshold and `overall` the worst category. Metrics that cannot
 * be computed are skipped. One finding per amber or red threshold (`high` for red, `medium` for
 * amber), coded `<CATEGORY>_<METRIC>` unless the threshold names its code.
 */

import {
  type Finding,
  type Rating,
  type RatingsSection,
  RISK_CATEGORIES,
  type RiskCategory,
} from '../../audit-result.ts';
import { type AppetiteFigures, appetiteMetric } from '../../policy/appetite-metrics.ts';
import type { CompiledPolicy } from '../../policy/compile.ts';
import type { Policy, Threshold } from '../../policy/policy.ts';
import type { PartialAudit } from '../accumulator.ts';
import { exactSumValue } from '../exact-sum.ts';
import { inFen, totalFen } from './helpers.ts';

const RATING_RANK: Record<Rating, number> = { green: 0, amber: 1, red: 2 };

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

function metricCode(category: RiskCategory, metric: string): string {
  const snake = metric.replace(/:/g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  return `${category}_${snake}`.toUpperCase();
}

function rate(t: Threshold, v: number): Rating {
  const beyond = (limit: number): boolean => (t.direction === 'below' ? v < limit : v > limit);
  if (beyond(t.red)) return 'red';
  if (beyond(t.amber)) return 'amber';
  return 'green';
}

/** The figures the risk appetite's metrics read: the sections built so far, the breaches and the parts of the book in fen. */
export function appetiteFigures(
  partial: PartialAudit,
  compiled: CompiledPolicy,
  sections: Pick<AppetiteFigures, 'portfolio' | 'concentration' | 'dataQuality' | 'psi'>,
  compliance: { breaches: AppetiteFigures['breaches']; watchFen: number },
): AppetiteFigures {
  const sub = partial.sub;
  const flagIndex = new Map(compiled.flags.map((f, i) => [f.code, i]));
  return {
    portfolio: sections.portfolio,
    concentration: sections.concentration,
    dataQuality: sections.dataQuality,
    psi: sections.psi,
    breaches: compliance.breaches,
    totalFen: totalFen(partial),
    fen: {
      stage2: inFen(partial.stageFen[1]!, sub.stage[1]!),
      stage3: inFen(partial.stageFen[2]!, sub.stage[2]!),
      watch: compliance.watchFen,
      anyFlag: inFen(partial.anyFlagFen, sub.anyFlag),
      pastMaturity: inFen(partial.maturityFen[0]!, sub.maturity[0]!),
      maturing30: inFen(
        partial.maturityFen[1]! + partial.maturityFen[2]!,
        sub.maturity[1]! + sub.maturity[2]!,
      ),
      longDated: inFen(partial.maturityFen[5]!, sub.maturity[5]!),
      partnerFunded: exactSumValue(partial.partnerFen),
    },
    flagFen: (code) => {
      const i = flagIndex.get(code);
      return i === undefined ? undefined : inFen(partial.flagFen[i]!, sub.flag[i]!);
    },
  };
}

/** Rates the appetite figures against the policy's thresholds, with a finding per amber or red threshold. */
export function ratingsSection(
  policy: Policy,
  figures: AppetiteFigures,
): { section: RatingsSection; findings: Finding[] } {
  const findings: Finding[] = [];
  const ratings = {} as RatingsSection;
  let overall: Rating = 'green';
  for (const category of RISK_CATEGORIES) {
    let worst: Rating = 'green';
    for (const t of policy.appetite.categories[category]) {
      const m = appetiteMetric(t.metric);
      const v = m === undefined ? null : m.value(figures);
      if (m === undefined || v === null) continue;
      const r = rate(t, v);
      if (RATING_RANK[r] > RATING_RANK[worst]) worst = r;
      if (r === 'green') continue;
      const limit = r === 'red' ? t.red : t.amber;
      const show = (x: number): string => (m.unit === 'share' ? pct(x) : String(Number(x.toPrecision(6))));
      const finding: Finding = {
        category,
        severity: r === 'red' ? 'high' : 'medium',
        code: t.code ?? metricCode(category, t.metric),
        message: `${m.label} ${show(v)} is ${t.direction} the ${r} threshold ${show(limit)}`,
        value: v,
        threshold: limit,
      };
      if (t.source !== undefined) finding.source = t.source;
      findings.push(finding);
    }
    ratings[category] = worst;
    if (RATING_RANK[worst] > RATING_RANK[overall]) overall = worst;
  }
  ratings.overall = overall;
  return { section: ratings, findings };
}
