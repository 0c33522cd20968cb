import { numbered } from '@repopulse/bus-contract';
import { freePort } from '@repopulse/test-support';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPostgresBus } from '../src/index';

describe('createPostgresBus options', () => {
  it('needs exactly one of connectionString and pool', () => {
    expect(() => createPostgresBus({})).toThrow(expect.objectContaining({ code: 'missing_option' }));
    const pool = new pg.Pool();
    expect(() => createPostgresBus({ connectionString: 'postgres://x', pool })).toThrow(
      expect.objectContaining({ code: 'invalid_option' }),
    );
  });

  it('rejects unknown options and invalid values with OptionsError', () => {
    const url = 'postgres://127.0.0.1:1/none';
    expect(() => createPostgresBus({ connectionString: url, schmea: 'x' } as never)).toThrow(
      expect.objectContaining({ code: 'unknown_option' }),
    );
    for (const bad of [
      { schema: '' },
      { schema: 'x'.repeat(64) },
      { createTables: 'yes' },
      { publishTimeoutMs: 0 },
      { historyLimit: 0 },
      { listenConnectionString: '' },
      { pool: {} },
    ]) {
      expect(
        () => createPostgresBus({ connectionString: url, ...bad } as never),
        JSON.stringify(bad),
      ).toThrow(
        expect.objectContaining({ code: 'invalid_option', message: expect.stringMatching(/^\[repopulse\]/) }),
      );
    }
  });

  it('rejects a publish with bus_unavailable when Postgres stays unreachable past publishTimeoutMs', async () => {
    const port = await freePort(); // nothing listens there
    const bus = createPostgresBus({
      connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
      publishTimeoutMs: 300,
      onError: () => {},
    });
    try {
      await expect(bus.publish('down', numbered(1))).rejects.toMatchObject({
        code: 'bus_unavailable',
        message: expect.stringContaining('unreachable'),
      });
      await expect(bus.subscribe('down', () => {})).rejects.toMatchObject({ code: 'bus_unavailable' });
    } finally {
      await bus.close();
    }
  });
});
