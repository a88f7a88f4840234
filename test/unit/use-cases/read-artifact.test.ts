import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  decodePreviousIndex,
  encodePreviousIndex,
  PreviousTape,
} from '../../../shared/domain/engine/previous-tape.ts';
import {
  CarriedIndexInfoSchema,
  PreviousIndexExtraSchema,
  ScoreManifestSchema,
} from '../../../shared/schema/artifacts.ts';
import { AuditDocumentSchema } from '../../../shared/schema/audit-document.ts';
import { checkShape, readArtifact, readOptionalArtifact } from '../../../shared/use-cases/read-artifact.ts';

/** An artifact store holding these objects (JSON values are stored as their text). */
function store(objects: Record<string, unknown>) {
  return {
    get: async (key: string): Promise<Uint8Array | null> => {
      if (!(key in objects)) return null;
      const v = objects[key];
      return new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
    },
  };
}

const MANIFEST_KEY = 'runs/2026-02-28/scores.json';
const AUDIT_FIXTURE = new URL('../../fixtures/report/audit-2026-11-25.json', import.meta.url);

describe('Function: readArtifact', () => {
  it('returns the artifact as its schema reads it', async () => {
    const artifacts = store({ [MANIFEST_KEY]: { runId: 'r1', buckets: 4, loans: 1200, format: 1 } });
    await expect(
      readArtifact(artifacts, MANIFEST_KEY, ScoreManifestSchema, 'score manifest'),
    ).resolves.toEqual({
      runId: 'r1',
      buckets: 4,
      loans: 1200,
      format: 1,
    });
  });

  it('fails with one sentence naming the artifact, its key and the first problem', async () => {
    const artifacts = store({ [MANIFEST_KEY]: { runId: 'r1', buckets: '4', loans: 1200 } });
    await expect(
      readArtifact(artifacts, MANIFEST_KEY, ScoreManifestSchema, 'score manifest'),
    ).rejects.toThrow(
      'the score manifest has an unexpected shape (runs/2026-02-28/scores.json): at buckets: Invalid input: expected number, received string',
    );
  });

  it('names an artifact that is not JSON, and one that is missing', async () => {
    const artifacts = store({ [MANIFEST_KEY]: '{"runId": "r1", ' });
    await expect(
      readArtifact(artifacts, MANIFEST_KEY, ScoreManifestSchema, 'score manifest'),
    ).rejects.toThrow('the score manifest is not JSON (runs/2026-02-28/scores.json)');
    await expect(readArtifact(store({}), MANIFEST_KEY, z.unknown(), 'score manifest')).rejects.toThrow(
      'the score manifest is missing (runs/2026-02-28/scores.json)',
    );
  });
});

describe('Function: checkShape', () => {
  it("reads a drift index's header through its schema, and names the index and the problem when it lacks the intake", () => {
    // Prepare: an index of one loan written without its tape's intake counts.
    const tape = new PreviousTape('2026-11-24');
    tape.addEntry(1, 2, 0);
    const bare = decodePreviousIndex(encodePreviousIndex(tape)).extra;
    const key = 'runs/2026-11-25/partials/r1/previous-index.bin';

    // Assess
    expect(() => checkShape(bare, key, PreviousIndexExtraSchema, "previous tape's drift index")).toThrow(
      `the previous tape's drift index has an unexpected shape (${key}): at intake: `,
    );
  });
});

describe('Function: readOptionalArtifact', () => {
  it('is null for an artifact that does not exist, and checks one that does', async () => {
    const key = 'runs/2026-02-27/drift-index.json';
    await expect(
      readOptionalArtifact(store({}), key, CarriedIndexInfoSchema, 'index info'),
    ).resolves.toBeNull();
    await expect(
      readOptionalArtifact(
        store({ [key]: { parts: [{ key: 'a.csv' }], mapping: 'x' } }),
        key,
        CarriedIndexInfoSchema,
        'index info',
      ),
    ).rejects.toThrow(
      'the index info has an unexpected shape (runs/2026-02-27/drift-index.json): at parts.0.bytes',
    );
  });
});

describe('Schema: AuditDocumentSchema', () => {
  it('reads a finished audit.json as written, and the audit of a failed run', () => {
    const audit = JSON.parse(readFileSync(AUDIT_FIXTURE, 'utf8'));
    expect(AuditDocumentSchema.parse(audit)).toEqual(audit);
    const failed = {
      schemaVersion: 1,
      snapshotDate: '2026-11-25',
      previousSnapshotDate: null,
      status: 'failed',
      error: 'no tape landed for 2026-11-25',
      failedAt: '2026-11-26T02:00:00.000Z',
    };
    expect(AuditDocumentSchema.parse(failed)).toEqual(failed);
  });

  it('refuses an audit missing a DPD bucket of the contract, naming where', async () => {
    const audit = JSON.parse(readFileSync(AUDIT_FIXTURE, 'utf8'));
    delete audit.portfolio.dpdBuckets['91-180'];
    const key = 'runs/2026-11-25/audit.json';
    await expect(
      readArtifact(store({ [key]: audit }), key, AuditDocumentSchema, 'audit of 2026-11-25'),
    ).rejects.toThrow(
      /^the audit of 2026-11-25 has an unexpected shape \(runs\/2026-11-25\/audit\.json\): at portfolio\.dpdBuckets\.91-180: /,
    );
  });
});
