import { readSse } from '../../support/gatewayHarness';

export interface Seen {
  requestId: string;
  /** HTTP status; 0 when the request failed without one. */
  status: number;
  /** The x-safety-policy header (or the failure). */
  header: string | null;
  /** For an answer other than 200, the start of its body: a failed run says what the client got. */
  body?: string;
}

export interface Load {
  readonly seen: Seen[];
  /** Resolves once `count` responses have come back in all. */
  responsesReach(count: number): Promise<void>;
  /** Lets every client finish its request in flight, then stops them. */
  stop(): Promise<void>;
}

/**
 * `clients` concurrent clients, each sending chat completions back to back (every other one
 * streamed) and reading every answer to its end, until stopped. Counts by responses, never by time.
 */
export function startLoad(baseUrl: string, clients: number): Load {
  const seen: Seen[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let stopped = false;
  let counter = 0;
  const settle = () => {
    for (const w of [...waiters]) {
      if (seen.length >= w.count) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const client = async (c: number) => {
    while (!stopped) {
      const n = counter++;
      const requestId = `load-${c}-${n}`;
      const stream = n % 2 === 0;
      try {
        const res = await fetch(`${baseUrl}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': requestId },
          body: JSON.stringify({ model: 'dev', stream, messages: [{ role: 'user', content: `request ${requestId}` }] }),
        });
        // The whole body, so a request spans its full life (streams included) before it counts.
        const header = res.headers.get('x-safety-policy');
        if (res.status !== 200) seen.push({ requestId, status: res.status, header, body: (await res.text()).slice(0, 300) });
        else {
          if (stream) await readSse(res);
          else await res.text();
          seen.push({ requestId, status: res.status, header });
        }
      } catch (err) {
        seen.push({ requestId, status: 0, header: `failed: ${(err as Error).message}` });
      }
      settle();
    }
  };
  const running = Array.from({ length: clients }, (_, c) => client(c));
  return {
    seen,
    responsesReach: (count) => new Promise<void>((resolve) => (seen.length >= count ? resolve() : waiters.push({ count, resolve }))),
    async stop() {
      stopped = true;
      await Promise.all(running);
      for (const w of waiters.splice(0)) w.resolve();
    },
  };
}
