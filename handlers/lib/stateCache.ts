/**
 * The app state as the items function's write path sees it: read strongly consistently from a region's app-config
 * replica, and reused by every request of this container (one Lambda execution environment) for at most
 * `cacheMs`, counted from when the read was SENT (the state it returns was current at some moment after that).
 *
 * Why a cache and not a read per write: every write in a region would otherwise read the same item, and one
 * partition serves at most 3,000 strongly consistent reads a second
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html). With the cache a
 * container reads each region's state at most once per cacheMs, whatever its write rate: reads/s = containers /
 * cacheMs. What it costs is the write bound (schema/rules.ts writeBoundMs): a fence is seen by a container at most
 * cacheMs after it is visible in the replica.
 *
 * Concurrent requests share one read in flight (an execution environment serves one invocation at a time in AWS,
 * but the local emulator runs one per region for every request). A failed read is not kept: the next request reads
 * again. The read itself runs without the caller's AbortSignal (a caller giving up must not fail the others
 * waiting on it; the DynamoDB client's own timeouts bound it, handlers/lib/dynamo.ts); each caller stops waiting
 * when its own signal aborts.
 */
import type { AppStateItem } from './appState';

export interface StateView {
  /** The stored state, null when there is no state item. */
  state: string | null;
  /** See AppStateItem.writesFromMs. */
  writesFromMs: number | null;
  /** When the read that returned this view was sent (epoch ms). */
  readAtMs: number;
}

export interface StateCache {
  /** The state of `region`'s replica, read at most cacheMs ago. */
  get(region: string, signal?: AbortSignal): Promise<StateView>;
}

interface Entry {
  readAtMs: number;
  view: Promise<StateView>;
}

/** Waits for `p`, or rejects with the signal's reason when it aborts first. */
function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function stateCache(opts: { read(region: string): Promise<AppStateItem | null>; cacheMs: number; now?: () => number }): StateCache {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();
  return {
    get(region, signal) {
      const t = now();
      const cached = entries.get(region);
      if (cached && t - cached.readAtMs <= opts.cacheMs) return untilAborted(cached.view, signal);
      const entry: Entry = {
        readAtMs: t,
        view: opts.read(region).then((item) => ({
          state: item ? item.state : null,
          writesFromMs: typeof item?.writesFromMs === 'number' ? item.writesFromMs : null,
          readAtMs: t,
        })),
      };
      entries.set(region, entry);
      // a failed read is forgotten, unless a newer read has replaced it meanwhile
      entry.view.catch(() => {
        if (entries.get(region) === entry) entries.delete(region);
      });
      return untilAborted(entry.view, signal);
    },
  };
}
