/**
 * A request's time budget: the items, health and state handlers cap their total work (every DynamoDB call and
 * every retry pause) by what Lambda says is left of the invocation, so a stalled dependency ends in a clear 503
 * before Lambda kills the invocation (which API Gateway would turn into a bare 502 with nothing logged).
 *
 * The budget is `context.getRemainingTimeInMillis()` minus a reserve for answering, and never more than
 * REQUEST_WORK_CAP_MS (schema/rules.ts, 29 s: API Gateway's default integration timeout for REST APIs, after which
 * the client has its 504 anyway). The cap is the handler's own: API Gateway's timeout does not stop the function
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html), so the write bound (schema/rules.ts
 * writeBoundMs) counts on this cap and the function's timeout, not on API Gateway. Without a Lambda context (a
 * core called directly) the default applies.
 */
import { REQUEST_WORK_CAP_MS } from '../../schema/rules';

/** Kept back from Lambda's remaining time to build, log and return the answer. */
export const ANSWER_RESERVE_MS = 250;
/** The budget when there is no Lambda context. */
export const DEFAULT_BUDGET_MS = 10_000;

/** What the handlers need of Lambda's context object. */
export interface LambdaContextLike {
  awsRequestId?: string;
  getRemainingTimeInMillis?: () => number;
}

export class Budget {
  private controller?: AbortController;
  private timer?: NodeJS.Timeout;

  constructor(
    /** epoch milliseconds after which no more work starts */
    readonly deadline: number,
    private readonly now: () => number = Date.now,
  ) {}

  static ofMs(ms: number, now: () => number = Date.now): Budget {
    return new Budget(now() + Math.max(0, ms), now);
  }

  static fromContext(context?: LambdaContextLike, now: () => number = Date.now): Budget {
    let ms = DEFAULT_BUDGET_MS;
    if (context && typeof context.getRemainingTimeInMillis === 'function') {
      const remaining = Number(context.getRemainingTimeInMillis());
      if (Number.isFinite(remaining)) ms = remaining - ANSWER_RESERVE_MS;
    }
    return Budget.ofMs(Math.min(ms, REQUEST_WORK_CAP_MS - ANSWER_RESERVE_MS), now);
  }

  remaining(): number {
    return Math.max(0, this.deadline - this.now());
  }

  expired(): boolean {
    return this.remaining() <= 0;
  }

  /** One signal for the whole request: aborts every call still running when the budget is spent. */
  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      const ms = this.remaining();
      if (ms <= 0) controller.abort(new BudgetExhausted());
      else {
        this.timer = setTimeout(() => controller.abort(new BudgetExhausted()), ms);
        this.timer.unref?.();
      }
    }
    return this.controller.signal;
  }

  /**
   * A signal that aborts `reserveMs` before the deadline (at most a third of what is left), so that work after the
   * call still fits: the items handler's write calls keep room to read an item back when a write's outcome is
   * unknown. It aborts with a TimeoutError, which answers as a timeout (handlers/lib/errors.ts).
   */
  signalLeaving(reserveMs: number): AbortSignal {
    const left = this.remaining();
    return AbortSignal.timeout(Math.max(0, left - Math.min(reserveMs, Math.floor(left / 3))));
  }

  /** Waits `ms` unless that would run past the deadline; answers whether it waited. */
  async pause(ms: number): Promise<boolean> {
    if (ms >= this.remaining()) return false;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return true;
  }

  /** Stops the abort timer (the request is answered). */
  done(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/** The reason a budget's signal aborts with. */
export class BudgetExhausted extends Error {
  constructor() {
    super('the request ran out of its time budget');
    this.name = 'BudgetExhausted';
  }
}

/** Full-jitter exponential backoff, base·2^(attempt-1) capped (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). */
export function backoffMs(attempt: number, baseMs = 25, capMs = 1000, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
