// Error kinds a handler can raise; the runtime decides retry, dead-letter or stop from the kind alone.

/** The input itself can never be processed (e.g. not a batch envelope): dead-letter at once, do not retry. */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}

/** Stop the stage without acking (an `expect_or_fail` expectation failed): the data stays for a fixed deployment. */
export class FatalStageError extends Error {
  override name = 'FatalStageError';
}
