/** The part of pg's `Connection` (a `Client`'s `connection`) that tells when a transaction ended. */
interface ProtocolConnection {
  on(event: 'readyForQuery', listener: (message: { status?: string }) => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
}

const watched = new WeakMap<object, Set<string>>();

/**
 * Calls `ended(topics)` once the transaction open on `tx`'s connection ends (the server reports the
 * connection idle again: `ReadyForQuery` with status `I`, after `COMMIT` or `ROLLBACK`), with every
 * topic enqueued in it. False when `tx` is not a pg `Client` whose connection can be watched (a
 * wrapper such as Kysely's, or a `Pool`): the caller then asks the server to announce the commit.
 */
export function watchTransactionEnd(tx: unknown, topic: string, ended: (topics: string[]) => void): boolean {
  const connection = (tx as { connection?: Partial<ProtocolConnection> } | null)?.connection;
  if (
    typeof connection !== 'object' ||
    connection === null ||
    typeof connection.on !== 'function' ||
    typeof connection.once !== 'function' ||
    typeof connection.removeListener !== 'function'
  ) {
    return false;
  }
  const watchable = connection as ProtocolConnection;
  const topics = watched.get(watchable);
  if (topics) {
    topics.add(topic);
    return true;
  }
  const inTransaction = new Set([topic]);
  watched.set(watchable, inTransaction);
  const stop = () => {
    watchable.removeListener('readyForQuery', onReady);
    watchable.removeListener('end', stop);
    watched.delete(watchable);
  };
  const onReady = (message: { status?: string }) => {
    if (message?.status !== 'I') return;
    stop();
    ended([...inTransaction]);
  };
  watchable.on('readyForQuery', onReady);
  watchable.once('end', stop);
  return true;
}
