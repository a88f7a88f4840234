import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeTapeDecoder } from '../../../../shared/adapters/tape/read-tape.ts';
import { auditShard } from '../../../../shared/domain/engine/shard-audit.ts';
import { VALIDATION_RULES_VERSION } from '../../../../shared/domain/tape/row-validator.ts';
import { defaultPolicy } from '../engine/helpers.ts';
import { collectQuarantine, memoryPart } from './helpers.ts';

// A carried drift index is trusted only under the validation rules it was built with
// (VALIDATION_RULES_VERSION). This pins what the rules make of a fixture tape holding every
// quarantine reason and every rule's edge: a change to the rules changes what is pinned here, and
// must come with a new version (and the new digest), so the next night reads the previous tape again.

const FIXTURE = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'tapes', 'validation-rules.csv');

/** What the rules decided on the fixture: each quarantined line with its codes, and the drift-index entries of the valid loans. */
async function outcome() {
  const quarantine = collectQuarantine();
  // The fixture plus a row with a NUL byte in a cell (kept out of the file so that it stays text).
  const nul =
    '2026-11-25,V098,B1,individual,credit_loan,10000,6000,0.18,12,2026-03-01,2027-03-01,0,CNY,Zhe\u0000jiang,office_worker,,30,120000,2000,1,700,false,1,,,,\n';
  const tape = Buffer.concat([readFileSync(FIXTURE), Buffer.from(nul)]);
  const shard = await auditShard(nodeTapeDecoder, [memoryPart('validation-rules.csv', tape)], {
    snapshotDate: '2026-11-25',
    policy: defaultPolicy(),
    previous: null,
    keepIndexEntries: true,
    quarantine,
  });
  const { entries, count } = shard.indexEntries;
  const index = Buffer.from(entries.buffer, entries.byteOffset, count * 12);
  return {
    rowsValid: shard.intake.rowsValid,
    quarantineByCode: shard.intake.quarantineByCode,
    // line number and codes of each quarantined row (quarantine.csv: line,part,codes,detail,raw)
    quarantined: quarantine.rows.map((r) => `${r.line} ${r.codes.join('|')}`),
    indexDigest: createHash('sha256').update(index).digest('hex').slice(0, 16),
  };
}

describe('Constant: VALIDATION_RULES_VERSION', () => {
  it('names the rules that decide the fixture tape as pinned here', async () => {
    const got = await outcome();
    expect(got.rowsValid + got.quarantined.length).toBe(47);
    expect({ version: VALIDATION_RULES_VERSION, ...got }).toEqual({
      version: 3,
      rowsValid: 24,
      quarantineByCode: {
        CURRENCY_MISMATCH: 1,
        DUPLICATE_LOAN_ID: 2,
        INVALID_BOOLEAN: 1,
        INVALID_DATE: 1,
        MALFORMED_ROW: 2,
        MATURITY_BEFORE_ORIGINATION: 1,
        MISSING_REQUIRED: 1,
        NEGATIVE: 2,
        NOT_FINITE: 1,
        NOT_INTEGER: 1,
        NOT_POSITIVE: 1,
        ORIGINATION_AFTER_SNAPSHOT: 1,
        OUTSTANDING_EXCEEDS_PRINCIPAL: 1,
        OUT_OF_RANGE: 1,
        SNAPSHOT_DATE_MISMATCH: 1,
        UNPARSEABLE_NUMBER: 1,
        VALUE_NOT_ALLOWED: 4,
      },
      // Lines 2-26 but 24 are valid: every dpd bucket boundary and every rule's edge (outstanding at
      // 1.5x principal, funding share 0, Y/yes/0 booleans, a leap day, origination on the snapshot
      // date, a purpose, partner, group and reported class given). Version 2: one currency per tape
      // (line 24 is in USD on a CNY tape), and loan_purpose and reported_classification take a closed
      // set of values (lines 45 and 46).
      quarantined: [
        '24 CURRENCY_MISMATCH',
        '27 MISSING_REQUIRED',
        '28 UNPARSEABLE_NUMBER',
        '29 NOT_FINITE',
        '30 NOT_INTEGER',
        '31 NEGATIVE',
        '32 NOT_POSITIVE',
        '33 OUT_OF_RANGE',
        '34 INVALID_DATE',
        '35 INVALID_BOOLEAN',
        '36 VALUE_NOT_ALLOWED',
        '37 VALUE_NOT_ALLOWED',
        '38 OUTSTANDING_EXCEEDS_PRINCIPAL',
        '39 MATURITY_BEFORE_ORIGINATION',
        '40 ORIGINATION_AFTER_SNAPSHOT',
        '41 SNAPSHOT_DATE_MISMATCH',
        '42 NEGATIVE',
        '43 DUPLICATE_LOAN_ID',
        '44 DUPLICATE_LOAN_ID',
        '45 VALUE_NOT_ALLOWED',
        '46 VALUE_NOT_ALLOWED',
        '47 MALFORMED_ROW',
        // A NUL byte inside a cell (version 2).
        '48 MALFORMED_ROW',
      ],
      // The valid loans' (id hash, days-past-due bucket) entries, as the carried index holds them.
      indexDigest: '487c5c38f0bcaf78',
    });
  });
});
