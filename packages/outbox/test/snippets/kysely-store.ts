import type { OutboxStore } from '@repopulse/outbox';
import { createPostgresStore, type PgPool, type PgResult } from '@repopulse/outbox/postgres';
import { CompiledQuery, type Transaction } from 'kysely';

/**
 * The Postgres store, written through a Kysely transaction: only `write` changes; the relay keeps
 * reading with the pool.
 */
export async function createKyselyStore<DB>(
  pool: PgPool,
): Promise<OutboxStore<Transaction<DB>, Promise<void>>> {
  const store = await createPostgresStore({ pool });
  return {
    ...store,
    write: (trx, row) =>
      store.write(
        {
          query: async (text, values = []) =>
            (await trx.executeQuery(CompiledQuery.raw(text, values))) as unknown as PgResult,
        },
        row,
      ),
  };
}
