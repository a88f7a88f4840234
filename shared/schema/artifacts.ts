/**
 * Schemas of the JSON artifacts the steps write to the data bucket and read back (KEYS names
 * where each lies): what is read back is checked like an event, never cast.
 */
import { z } from 'zod';

/** The tape's parts as a run lists them (kept in S3 beside the run: KEYS.runParts). */
export const PlannedPartSchema = z.object({
  key: z.string(),
  bytes: z.number().int().nonnegative(),
  lastModified: z.string().nullable(),
});
export const PlannedPartsSchema = z.array(PlannedPartSchema);
export type PlannedPart = z.infer<typeof PlannedPartSchema>;

/** What a date's carried drift index was built from (KEYS.carriedIndexInfo). */
export const CarriedIndexInfoSchema = z.object({
  /** The tape's parts as that run listed them. */
  parts: PlannedPartsSchema,
  /** `mappingFingerprint` of the column mapping that read them. */
  mapping: z.string(),
  /** VALIDATION_RULES_VERSION of the release that validated them (absent: version 1). */
  rules: z.number().int().positive().optional(),
});
export type CarriedIndexInfo = z.infer<typeof CarriedIndexInfoSchema>;

/** Which run's score files are a date's, in how many loan-id buckets (KEYS.scoresManifest, written last by finalize). */
export const ScoreManifestSchema = z.object({
  runId: z.string().min(1),
  buckets: z.number().int().positive(),
  loans: z.number().int().nonnegative(),
  /** The score file format's version (docs/score-file.md); absent for the JSON Lines files of earlier releases. */
  format: z.number().int().positive().optional(),
});
export type ScoreManifest = z.infer<typeof ScoreManifestSchema>;
