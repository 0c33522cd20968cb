import type { StreamPosition } from '@repopulse/events-core';
import type express from 'express';
import { type EventServer, startEventServer } from './event-server';

/** What the snapshot endpoint answers: the topic head, then the rows (as a real app reads them). */
export interface Snapshot {
  position: string;
  lines: string[];
}

/** An {@link EventServer} with a "database" of lines and a snapshot endpoint over it. */
export interface SnapshotServer extends EventServer {
  /** `GET` it for a {@link Snapshot}. */
  snapshotUrl: string;
  /** The database: `line <n>` for every event written so far. */
  lines: string[];
  /** Snapshot requests answered so far. */
  loads: number;
  /** Writes lines `from`..`from+count-1` to the database, then publishes each (commit, then publish). */
  write(from: number, count?: number): Promise<StreamPosition[]>;
  /** Holds snapshot answers until the returned function is called; the snapshot is read then. */
  hold(): () => void;
}

/** Starts an event server (options as {@link startEventServer}) with the snapshot endpoint. */
export async function startSnapshotServer(
  options: Parameters<typeof startEventServer>[0] = {},
  extra?: (app: express.Express) => void,
): Promise<SnapshotServer> {
  let gate: Promise<void> | undefined;
  const state = { lines: [] as string[], loads: 0 };
  const s = await startEventServer(options, (app) => {
    extra?.(app);
    app.get('/api/repositories/1', async (_req, res) => {
      await gate;
      const position = await s.bus.head('repo:1');
      state.loads++;
      res.json({ position, lines: [...state.lines] } satisfies Snapshot);
    });
  });
  return Object.assign(s, {
    snapshotUrl: `${s.origin}/api/repositories/1`,
    get lines() {
      return state.lines;
    },
    get loads() {
      return state.loads;
    },
    async write(from: number, count = 1) {
      const positions: StreamPosition[] = [];
      for (let n = from; n < from + count; n++) {
        state.lines.push(`line ${n}`);
        positions.push(...(await s.publish(n)));
      }
      return positions;
    },
    hold() {
      let release = () => {};
      gate = new Promise((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return release;
    },
  });
}
