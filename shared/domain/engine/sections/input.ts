/**
 * The input section: the tape's rows read, valid and quarantined (with the quarantine counts by
 * code), its sha256 (one part's digest, or the digest of the parts' digests in key order), and,
 * only when there are any, its parts, unknown columns, and the rows the mapping filtered out or
 * superseded (rows not in rowsRead).
 */

import { createHash } from 'node:crypto';
import type { AuditResult } from '../../audit-result.ts';
import type { IntakeStats } from '../../tape/intake.ts';

/** sha256 of the tape: the single part's digest, or the digest of the parts' hex digests joined by newlines in key order. */
export function tapeDigest(parts: readonly { key: string; sha256: string }[]): string {
  if (parts.length === 1) return parts[0]!.sha256;
  const sorted = [...parts].sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0));
  return createHash('sha256')
    .update(sorted.map((p) => p.sha256).join('\n'))
    .digest('hex');
}

/** Builds the input section of the audit from the tape's intake counts. */
export function inputSection(intake: IntakeStats): AuditResult['input'] {
  const input: AuditResult['input'] = {
    rowsRead: intake.rowsRead,
    rowsValid: intake.rowsValid,
    rowsQuarantined: intake.rowsQuarantined,
    quarantineByCode: { ...intake.quarantineByCode },
    sha256: tapeDigest(intake.parts),
  };
  if (intake.parts.length > 0) input.parts = intake.parts.map((p) => ({ ...p }));
  if (intake.unknownColumns.length > 0) input.unknownColumns = [...intake.unknownColumns];
  // Rows the mapping left out of the tape (not in rowsRead), said only when there are any.
  if ((intake.rowsFiltered ?? 0) > 0) input.rowsFiltered = intake.rowsFiltered!;
  if ((intake.rowsSuperseded ?? 0) > 0) input.rowsSuperseded = intake.rowsSuperseded!;
  return input;
}
