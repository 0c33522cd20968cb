// One load-generator process: raw sockets reading SSE, counting events and sampling latency.
import { connect, type Socket } from 'node:net';
import { now, serve } from './processes';

let port = 0;
const sockets = new Set<Socket>();
let events = 0;
let latencies: number[] = [];
const waiters = new Set<() => void>();
/** Start of a data line (better-sse writes `data:` without the space). */
const MARK = '\ndata:';
const STAMP = '"message":"t=';

function open(path: string, headers: string, sample: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    let carry = '';
    let opened = false;
    socket.on('connect', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${headers}\r\n`),
    );
    socket.on('data', (chunk: Buffer) => {
      const text = carry + chunk.toString('latin1');
      if (!opened) {
        opened = true;
        resolve(socket);
      }
      let at = text.indexOf(MARK);
      let counted = 0;
      while (at !== -1) {
        counted++;
        if (sample) {
          const stamp = text.indexOf(STAMP, at);
          if (stamp !== -1) {
            const t = Number.parseFloat(text.slice(stamp + STAMP.length, stamp + STAMP.length + 20));
            if (Number.isFinite(t)) latencies.push(now() - t);
          }
        }
        at = text.indexOf(MARK, at + MARK.length);
      }
      carry = text.slice(-(MARK.length - 1));
      if (counted > 0) {
        events += counted;
        for (const w of [...waiters]) w();
      }
    });
    socket.on('error', (error) => {
      if (!opened) reject(error);
    });
    socket.on('close', () => sockets.delete(socket));
    sockets.add(socket);
  });
}

serve({
  ready: () => ({}),
  /** Opens `n` SSE connections (`sampleEvery`: which ones record latency) and waits for first bytes. */
  connect: async ({ n, path = '/events', lastEventId, sampleEvery = 0, concurrency = 500 }) => {
    port = Number(process.env.BENCH_PORT);
    const headers = lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : '';
    const total = n as number;
    for (let i = 0; i < total; i += concurrency as number) {
      const batch = Math.min(concurrency as number, total - i);
      await Promise.all(
        Array.from({ length: batch }, (_, j) =>
          open(
            path as string,
            headers,
            (sampleEvery as number) > 0 && (i + j) % (sampleEvery as number) === 0,
          ),
        ),
      );
    }
    return { open: sockets.size };
  },
  /** Resolves (with the time) once `total` events arrived in all since `reset`. */
  expect: ({ total, timeoutMs = 120_000 }) =>
    new Promise((resolve) => {
      const check = () => {
        if (events < (total as number)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve({ at: now(), events });
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve({ at: now(), events, timedOut: true });
      }, timeoutMs as number);
      waiters.add(check);
      check();
    }),
  reset: () => {
    events = 0;
    latencies = [];
    return {};
  },
  latencies: () => ({ latencies }),
  disconnect: async () => {
    for (const s of sockets) s.destroy();
    while (sockets.size > 0) await new Promise((r) => setTimeout(r, 10));
    return {};
  },
  /** `cycles` connect/drop cycles, `concurrency` at a time. */
  churn: async ({ cycles, concurrency = 200 }) => {
    port = Number(process.env.BENCH_PORT);
    for (let done = 0; done < (cycles as number); done += concurrency as number) {
      const batch = await Promise.all(
        Array.from({ length: concurrency as number }, () => open('/events', '', false)),
      );
      for (const s of batch) s.destroy();
    }
    while (sockets.size > 0) await new Promise((r) => setTimeout(r, 10));
    return {};
  },
});
