/**
 * The data-quality section: rows read and quarantined, the quarantine rate, duplicate loan ids,
 * the missing rate of each optional column among valid rows, and the change in valid rows since
 * the previous tape (its intake, else the previous index's valid count). Also the technical notes
 * (ROWS_QUARANTINED, ENGINE_ROW_MISMATCH, NO_VALID_LOANS) and the audit's status: partial when any
 * of them is raised, ok otherwise.
 */

import type { AuditResult, DataQualitySection, Finding } from '../../audit-result.ts';
import { OPTIONAL_COLUMNS } from '../../loan.ts';
import type { IntakeStats } from '../../tape/intake.ts';
import type { PartialAudit } from '../accumulator.ts';

/** The data-quality section, its technical findings and the audit's status. */
export interface DataQualityOutcome {
  section: DataQualitySection;
  findings: Finding[];
  /** `partial` when rows were quarantined, no row was valid, or intake and engine counts differ. */
  status: AuditResult['status'];
}

/** Builds the data-quality section of a tape from its intake counts, the merged partial and the previous tape's intake. */
export function dataQualitySection(
  intake: IntakeStats,
  partial: PartialAudit,
  previousIntake: IntakeStats | null | undefined,
): DataQualityOutcome {
  const previousValid = previousIntake?.rowsValid ?? partial.previous?.validCount ?? null;
  const missingRate: Record<string, number> = {};
  if (intake.rowsValid > 0) {
    for (const column of OPTIONAL_COLUMNS)
      missingRate[column] = (intake.missingCounts[column] ?? 0) / intake.rowsValid;
  }
  const section: DataQualitySection = {
    rowsRead: intake.rowsRead,
    rowsQuarantined: intake.rowsQuarantined,
    quarantineRate: intake.rowsRead === 0 ? 0 : intake.rowsQuarantined / intake.rowsRead,
    duplicateLoanIds: intake.duplicateLoanIds,
    missingRate,
    rowCountChange:
      previousValid === null || previousValid === 0 ? null : intake.rowsValid / previousValid - 1,
  };

  const findings: Finding[] = [];
  if (intake.rowsQuarantined > 0) {
    const byCode = Object.entries(intake.quarantineByCode)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    findings.push({
      category: 'technical',
      severity: 'info',
      code: 'ROWS_QUARANTINED',
      message: `${intake.rowsQuarantined} of ${intake.rowsRead} rows quarantined (${byCode}); figures cover valid rows only`,
      value: intake.rowsQuarantined,
      threshold: null,
    });
  }
  const mismatch = intake.rowsValid !== partial.loans;
  if (mismatch) {
    findings.push({
      category: 'technical',
      severity: 'high',
      code: 'ENGINE_ROW_MISMATCH',
      message: `intake counted ${intake.rowsValid} valid rows but the engine scored ${partial.loans} loans`,
      value: partial.loans,
      threshold: intake.rowsValid,
    });
  }
  if (intake.rowsValid === 0) {
    findings.push({
      category: 'technical',
      severity: 'high',
      code: 'NO_VALID_LOANS',
      message: 'the tape has no valid loans: portfolio checks could not run',
      value: 0,
      threshold: null,
    });
  }
  const status = intake.rowsQuarantined > 0 || intake.rowsValid === 0 || mismatch ? 'partial' : 'ok';
  return { section, findings, status };
}
