import type { AddressInfo, Server, Socket } from 'node:net';

/** A server (`http`, `https`, `http2` or any `net.Server`) listening on a free loopback port, with its open sockets tracked. */
export interface TrackedServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The port it listens on. */
  port: number;
  /** Server-side sockets currently open. */
  sockets: Set<Socket>;
  /** Destroys every open socket (a network drop, as the clients see it). */
  dropConnections(): void;
  /** Destroys every open socket, then closes the server. */
  close(): Promise<void>;
}

/**
 * Listens on `127.0.0.1` at a free port and tracks the server's sockets, so a test can drop them
 * and `close()` never waits for a client that keeps a connection open.
 *
 * @example
 * ```ts
 * const { origin, close } = await listenTracked(createServer(app));
 * ```
 */
export async function listenTracked(server: Server): Promise<TrackedServer> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    sockets,
    dropConnections,
    close() {
      dropConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
