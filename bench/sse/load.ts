// One load-generator process: raw sockets (or HTTP/2 sessions) reading SSE, counting events and
// sampling latency.
import http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { now, serve } from './processes';

let port = 0;
const streams = new Set<Stream>();
let events = 0;
let latencies: number[] = [];
const waiters = new Set<() => void>();
/** Start of a data line (better-sse writes `data:` without the space). */
const MARK = '\ndata:';
const STAMP = '"message":"t=';

/** How the server is spoken to (`BENCH_PROTOCOL`): plain HTTP/1.1, HTTP/1.1 over TLS, or HTTP/2 over TLS. */
const protocol = (process.env.BENCH_PROTOCOL ?? 'h1') as 'h1' | 'tls' | 'h2';

/** A parser of one stream's bytes: counts `data:` lines, records latency when `sample`. */
function counter(sample: boolean): (chunk: Buffer) => void {
  let carry = '';
  return (chunk) => {
    const text = carry + chunk.toString('latin1');
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
  };
}

/** One stream open, whatever the protocol: closed by `destroy`. */
interface Stream {
  destroy(): void;
}

function open(path: string, headers: string, sample: boolean): Promise<Stream> {
  return protocol === 'h2' ? openH2(path, sample) : openH1(path, headers, sample);
}

function openH1(path: string, headers: string, sample: boolean): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port };
    const socket: Socket =
      protocol === 'tls'
        ? tlsConnect({ ...options, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
        : connect(options);
    socket.setNoDelay(true);
    const parse = counter(sample);
    let opened = false;
    socket.on(protocol === 'tls' ? 'secureConnect' : 'connect', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${headers}\r\n`),
    );
    socket.on('data', (chunk: Buffer) => {
      if (!opened) {
        opened = true;
        resolve(socket);
      }
      parse(chunk);
    });
    socket.on('error', (error) => {
      if (!opened) reject(error);
    });
    socket.on('close', () => streams.delete(socket));
    streams.add(socket);
  });
}

/** A stream on a session of its own, as each browser tab has its own connection. */
function openH2(path: string, sample: boolean): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    const stream: Stream = { destroy: () => session.destroy() };
    const parse = counter(sample);
    let opened = false;
    session.on('error', (error) => {
      if (!opened) reject(error);
    });
    session.on('close', () => streams.delete(stream));
    streams.add(stream);
    const request = session.request({ ':path': path, accept: 'text/event-stream' });
    request.on('response', () => {
      opened = true;
      resolve(stream);
    });
    request.on('data', parse);
    request.on('error', (error) => {
      if (!opened) reject(error);
    });
  });
}

serve({
  ready: () => ({}),
  /**
   * Opens `n` SSE connections (`sampleEvery`: which ones record latency; `port`: where, when not
   * `BENCH_PORT`) and waits for first bytes.
   */
  connect: async ({ n, path = '/events', lastEventId, sampleEvery = 0, concurrency = 500, port: to }) => {
    // `port`: another server than `BENCH_PORT` (one load process serving several servers in turn).
    port = Number(to ?? process.env.BENCH_PORT);
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
    return { open: streams.size };
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
    for (const s of streams) s.destroy();
    while (streams.size > 0) await new Promise((r) => setTimeout(r, 10));
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
    while (streams.size > 0) await new Promise((r) => setTimeout(r, 10));
    return {};
  },
});
