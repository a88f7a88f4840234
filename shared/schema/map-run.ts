/**
 * What a Distributed Map with a ResultWriter leaves in S3, as Step Functions documents it
 * (ResultWriter, "Exporting to Amazon S3"): the Map state's output names the Map Run and its
 * `manifest.json`; the manifest lists the results files by the child executions' status; each
 * `SUCCEEDED_n.json` / `FAILED_n.json` is a JSON array of child executions, their input and
 * output as JSON strings. The local engine writes these shapes and the workflow steps read them.
 */
import { z } from 'zod';

/** The S3 action of a Distributed Map's ItemReader over one JSON (or JSON Lines) object. */
export const ITEM_READER_RESOURCE = 'arn:aws:states:::s3:getObject';
/** The S3 action of a Distributed Map's ResultWriter. */
export const RESULT_WRITER_RESOURCE = 'arn:aws:states:::s3:putObject';

/** Output of a Distributed Map state that exported its results (`ResultWriterDetails.Key` is the manifest). */
export const MapRunOutputSchema = z.object({
  MapRunArn: z.string().min(1),
  ResultWriterDetails: z.object({ Bucket: z.string().min(1), Key: z.string().min(1) }),
});
export type MapRunOutput = z.infer<typeof MapRunOutputSchema>;

const ResultFileSchema = z.object({ Key: z.string().min(1), Size: z.number().int().nonnegative() });

/** `manifest.json` of an exported Map Run. */
export const MapRunManifestSchema = z.object({
  DestinationBucket: z.string().min(1),
  MapRunArn: z.string().min(1),
  ResultFiles: z.object({
    FAILED: z.array(ResultFileSchema).default([]),
    PENDING: z.array(ResultFileSchema).default([]),
    SUCCEEDED: z.array(ResultFileSchema).default([]),
  }),
});
export type MapRunManifest = z.infer<typeof MapRunManifestSchema>;

/** Status of a child execution as the results files group them. */
export type ChildExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One child execution in a results file (Transformation NONE, the default when exporting). */
export const MapRunResultEntrySchema = z
  .object({
    ExecutionArn: z.string(),
    Name: z.string(),
    Status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'RUNNING', 'PENDING_REDRIVE']),
    Input: z.string().optional(),
    Output: z.string().optional(),
    Error: z.string().optional(),
    Cause: z.string().optional(),
  })
  .passthrough();
export type MapRunResultEntry = z.infer<typeof MapRunResultEntrySchema>;

/** A results file: a JSON array of child executions of one status. */
export const MapRunResultFileSchema = z.array(MapRunResultEntrySchema);

/** Results files of one status are named `<STATUS>_<n>.json` beside the manifest. */
export function resultFileKey(manifestKey: string, status: ChildExecutionStatus, n: number): string {
  return `${manifestKey.slice(0, manifestKey.lastIndexOf('/') + 1)}${status}_${n}.json`;
}

/**
 * The `Cause` of a Lambda task's caught error, a JSON string as Step Functions passes it
 * (`{"errorType", "errorMessage", "trace"}`); a field of another type counts as absent.
 */
export const LambdaErrorCauseSchema = z.object({
  errorMessage: z.string().optional().catch(undefined),
  errorType: z.string().optional().catch(undefined),
});
