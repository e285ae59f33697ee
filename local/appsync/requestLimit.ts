/**
 * AppSync's request limit, locally. AWS ends a GraphQL request after 30 s: "Request execution time for mutations,
 * queries, and subscriptions", a hard limit that cannot be raised (https://docs.aws.amazon.com/general/latest/gr/appsync.html;
 * the AppSync team calls it that in https://github.com/aws/aws-appsync-community/issues/43). The write bound rests
 * on it (schema/rules.ts writeBoundMs): a mutation reads the app state in its own pipeline, so no GraphQL write can
 * commit later than the limit after that read. The local emulator runs the same limit, or the shorter one of a
 * scaled write bound (local/writeBound.ts).
 *
 * At the deadline (./graphql.ts, ./runner.ts):
 * - each resolver still running is answered as AppSync answers a timed-out field: the field is null and the error is
 *   {errorType: 'ExecutionTimeout', message: 'Execution timed out.', path: [the field]}. That shape is not in
 *   AWS's documentation; it is what AppSync returned to a client whose code keeps the answer verbatim
 *   (`{"data":{"listPets":null},"errors":[{"path":["listPets"],"data":null,"errorType":"ExecutionTimeout",
 *   "errorInfo":null,"locations":[…],"message":"Execution timed out."}]}`), and the message is the one AWS's own
 *   clients report (https://github.com/awslabs/aws-mobile-appsync-sdk-android/issues/280; a data source's
 *   ctx.error carries it too, https://github.com/aws/aws-appsync-community/issues/386). Fields that had already
 *   resolved keep their values.
 * - no data-source call is started for the request after it: a pipeline whose call answers late stops at its next
 *   call (its later steps never reach DynamoDB).
 * - a data-source call in flight is aborted: each DynamoDB call carries the deadline's AbortSignal (`signal`, given
 *   to the AWS SDK's send as abortSignal, https://aws.amazon.com/blogs/developer/abortcontroller-in-modular-aws-sdk-for-javascript/),
 *   so at the deadline the SDK closes the call's connection and its answer is dropped. A call the SDK had not sent
 *   yet is never sent. One DynamoDB already received completes there: DynamoDB does not undo a request because its
 *   caller went away, and an abort only ends the caller's side. Between AppSync and DynamoDB Local the emulator has
 *   its own DynamoDB fronts (../contention.ts, and in consistency strong ../syncReplication.ts, where a write can
 *   queue behind an item's lock); each drops a request whose caller has gone before it forwards it, so a write
 *   waiting there at the deadline never lands. That keeps the assumption schema/rules.ts states ("a write takes
 *   effect while the call that carries it is open, never after the caller has given up on it"): no GraphQL write
 *   lands later than the limit, save one DynamoDB Local already had, which it applies in its own few milliseconds.
 *   AWS does not document what AppSync does with a data-source call in flight at its limit; a call it has sent is
 *   in DynamoDB's hands as here, which is why the limit must be the bound, not shorter work.
 * The clock starts when the executor starts the request (after authorization).
 */
import { performance } from 'node:perf_hooks';
import { APPSYNC_REQUEST_LIMIT_MS } from '../../schema/rules';

export const EXECUTION_TIMEOUT = 'ExecutionTimeout';
export const EXECUTION_TIMED_OUT = 'Execution timed out.';
/** AppSync's limit; the emulator accepts shorter ones only (a scaled write bound), never longer. */
export const DEFAULT_REQUEST_LIMIT_MS = APPSYNC_REQUEST_LIMIT_MS;

/** Thrown where a request's work meets its deadline; the executor answers the field with AppSync's timeout error. */
export class RequestTimedOut extends Error {
  constructor() {
    super(EXECUTION_TIMED_OUT);
    this.name = 'RequestTimedOut';
  }
}

/** A request limit in milliseconds: an integer from 1 to AppSync's 30000; anything else throws, naming it. */
export function checkRequestLimit(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > APPSYNC_REQUEST_LIMIT_MS) {
    throw new Error(`requestLimitMs must be an integer from 1 to ${APPSYNC_REQUEST_LIMIT_MS} (AppSync's limit), got ${String(ms)}`);
  }
  return ms;
}

/** The time a deadline runs on: the machine's by default; tests give one they move by hand. */
export interface DeadlineClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `fire` once `ms` have passed; returns what cancels it. */
  after(ms: number, fire: () => void): () => void;
}

export const MACHINE_CLOCK: DeadlineClock = {
  now: () => performance.now(),
  after(ms, fire) {
    const timer = setTimeout(fire, ms);
    return () => clearTimeout(timer);
  },
};

/** One request's deadline. */
export class RequestDeadline {
  private readonly at: number;
  private fired = false;
  private readonly cancel: () => void;
  /** Resolves when the deadline passes (never, once ended first). */
  readonly passed: Promise<void>;
  /** Aborted (reason: RequestTimedOut) when the deadline passes: every data-source call of the request carries it. */
  readonly signal: AbortSignal;

  constructor(
    readonly limitMs: number,
    private readonly clock: DeadlineClock = MACHINE_CLOCK,
  ) {
    this.at = clock.now() + limitMs;
    let resolve!: () => void;
    this.passed = new Promise<void>((r) => (resolve = r));
    const controller = new AbortController();
    this.signal = controller.signal;
    this.cancel = clock.after(limitMs, () => {
      this.fired = true;
      controller.abort(new RequestTimedOut());
      resolve();
    });
  }

  /** True from the deadline on (by the clock, even before its timer has run). */
  get expired(): boolean {
    return this.fired || this.clock.now() >= this.at;
  }

  /** Called before each data-source call: after the deadline none is started. */
  assertOpen(): void {
    if (this.expired) throw new RequestTimedOut();
  }

  /** `work`'s outcome, or RequestTimedOut at the deadline (work then ends unobserved: its calls are aborted by `signal`). */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.expired) return Promise.reject(new RequestTimedOut());
    return Promise.race([
      work,
      this.passed.then((): never => {
        throw new RequestTimedOut();
      }),
    ]);
  }

  /** The request has answered: its timer is cancelled. */
  end(): void {
    this.cancel();
  }
}
