import type { RelayLease } from '../store';
import type { PgPool, PgPoolClient } from './postgres-types';

/**
 * Takes the relay lease of one outbox table: a session advisory lock held by a connection of its
 * own, which then `LISTEN`s for commits. `pg_advisory_lock` waits in the server until the holder's
 * session ends, so a standby takes over the moment the leader's connection is gone (its process died,
 * the server restarted), without polling.
 */
export async function takeLease(
  pool: PgPool,
  lockKey: string,
  channel: string,
  onNotify: (topic: string) => void,
  lost: () => void,
  signal: AbortSignal,
): Promise<RelayLease> {
  const client: PgPoolClient = await pool.connect();
  let held = false;
  let released = false;
  const dead = (error?: unknown) => {
    if (released) return;
    released = true;
    client.off('notification', notified);
    client.release(error instanceof Error ? error : new Error('outbox lease connection ended'));
    if (held) {
      held = false;
      lost();
    }
  };
  const notified = (message?: unknown) => {
    const payload = (message as { channel?: string; payload?: string } | undefined)?.payload;
    onNotify(payload ?? '');
  };
  client.on('error', dead);
  client.on('end', dead);
  // Closing while waiting: destroying the connection ends the server-side wait for the lock.
  const abandon = () => dead(new Error('the outbox closed while waiting for the relay lease'));
  if (signal.aborted) abandon();
  signal.addEventListener('abort', abandon, { once: true });
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [lockKey]);
    if (released) throw new Error('the outbox closed while waiting for the relay lease');
    client.on('notification', notified);
    await client.query(`LISTEN "${channel}"`);
  } catch (error) {
    dead(error);
    throw error;
  } finally {
    signal.removeEventListener('abort', abandon);
  }
  held = true;
  return {
    get held() {
      return held;
    },
    async release() {
      if (released) return;
      held = false;
      try {
        await client.query(`UNLISTEN "${channel}"`);
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey]);
        released = true;
        client.off('notification', notified);
        client.off('error', dead);
        client.off('end', dead);
        client.release();
      } catch (error) {
        dead(error);
      }
    },
  };
}
