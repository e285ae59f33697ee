/**
 * The notifier's event source mapping settings (DynamoDB stream → notifier λ), in a module of their own with no
 * @pulumi imports: components/notifier.ts deploys them, and the local emulator's notifier loop
 * (local/notifierLoop.ts) reproduces them without paying the seconds it takes to load @pulumi/aws.
 * Tests assert them; docs/notifier.md explains what they mean for poison records and retries. Semantics: handlers/notifier.ts (header).
 */
export const STREAM_MAPPING = {
  startingPosition: 'LATEST',
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 5,
  maximumRecordAgeInSeconds: 3600,
  functionResponseTypes: ['ReportBatchItemFailures'],
} as const;

export type StreamMapping = typeof STREAM_MAPPING;
