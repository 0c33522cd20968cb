import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './port';
import { hasRedisServer, withRedis } from './redis';
import { type RedisProcess, spawnRedis } from './redis-process';

const run = promisify(execFile);

/**
 * Why a local Redis Cluster cannot be started here (no `redis-server` or no `redis-cli` on PATH),
 * or undefined when it can. Pass it to `requirement()`.
 *
 * @example
 * const mode = requirement('bus-redis', redisClusterMissing(), 'the cluster tests');
 */
export function redisClusterMissing(): string | undefined {
  if (!hasRedisServer()) return 'no redis-server binary on PATH (install redis-server 7+)';
  if (spawnSync('redis-cli', ['--version']).status !== 0)
    return 'no redis-cli binary on PATH (install redis-tools 7+)';
  return undefined;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Primaries (each owns an equal share of the 16384 slots). @default 3 */
  primaries?: number;
  /** Replicas per primary. @default 1 */
  replicasPerPrimary?: number;
  /**
   * `cluster-node-timeout`: how long a silent primary takes to be judged failed and replaced
   * by its replica. Low, so failover tests are quick.
   * @default 1000
   */
  nodeTimeoutMs?: number;
  /** Keep an append-only file per node (fsync always), so a restarted node keeps its data. @default false */
  appendonly?: boolean;
  /**
   * `cluster-require-full-coverage`: when false, the other shards keep serving while one shard
   * has no primary (Redis's default, true, stops the whole cluster).
   * @default true
   */
  requireFullCoverage?: boolean;
}

/** One `redis-server --cluster-enabled yes` process of a {@link RedisCluster}. */
export interface ClusterNode {
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** Its client port (the cluster bus uses a second free port). */
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** True while its process runs. */
  readonly running: boolean;
}

/** A node's place in the cluster now, from `CLUSTER NODES`. */
export interface ClusterNodeRole {
  /** The node. */
  node: ClusterNode;
  /** Its cluster node id. */
  id: string;
  /** `primary` or `replica` (as seen by the node asked). */
  role: 'primary' | 'replica';
  /** For a replica, its primary's node id. */
  primaryId: string | undefined;
  /** Slot ranges `[from, to]` it serves (primaries only). */
  slots: [number, number][];
}

/** A local Redis Cluster owned by a test: its own processes, free ports and temp folders. */
export interface RedisCluster {
  /** Every node, in start order (first the initial primaries, then the initial replicas). */
  readonly nodes: readonly ClusterNode[];
  /** `{host, port}` of every node, to give an ioredis `Cluster` as startup nodes. */
  readonly startupNodes: { host: string; port: number }[];
  /** Stops a node's process with `signal` (default SIGKILL: no goodbye to the cluster) and waits. */
  kill(node: ClusterNode, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped node again on its port and folder (it rejoins with its `nodes.conf`). */
  restart(node: ClusterNode): Promise<void>;
  /**
   * Runs `CLUSTER FAILOVER` on `replica` (a manual, lossless failover: its primary stops
   * writes until the replica caught up) and waits until it is a primary and the cluster is ok.
   */
  failover(replica: ClusterNode): Promise<void>;
  /**
   * Moves `slot` with its keys to the primary `target` the way `redis-cli --cluster reshard`
   * does (`SETSLOT IMPORTING/MIGRATING`, `MIGRATE` in batches, `SETSLOT NODE` on every primary)
   * and waits until the cluster agrees.
   */
  migrateSlot(slot: number, target: ClusterNode): Promise<void>;
  /** Every running node's role, as the first running node sees it. */
  roles(): Promise<ClusterNodeRole[]>;
  /** The slot of `key` (`CLUSTER KEYSLOT`). */
  slotOf(key: string): Promise<number>;
  /** The running node that serves `slot` as primary now. */
  primaryOf(slot: number): Promise<ClusterNodeRole>;
  /** The replicas of the node that serves `slot` as primary now. */
  replicasOf(slot: number): Promise<ClusterNodeRole[]>;
  /**
   * Waits until every running node says `cluster_state:ok` and agrees that each slot has a
   * running primary, and every running replica is in sync with its primary; rejects after
   * `timeoutMs`.
   */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes every folder. */
  destroy(): Promise<void>;
}

interface NodeState {
  node: ClusterNode;
  port: number;
  busPort: number;
  dir: string;
  process: RedisProcess | undefined;
}

/**
 * Starts a local Redis Cluster (default 3 primaries + 3 replicas): one `redis-server
 * --cluster-enabled yes` per node on free ports in temp folders, joined by
 * `redis-cli --cluster create … --cluster-replicas N --cluster-yes`, and resolves once every
 * node reports `cluster_state:ok`. Each node gets an explicit `cluster-port`, so any free port
 * works. Needs Redis 7+ (`redisClusterMissing()` says when the binaries are absent).
 *
 * @example
 * const cluster = await startRedisCluster();
 * const client = new Cluster(cluster.startupNodes);
 * await cluster.kill(cluster.nodes[0]!); // a primary dies; its replica takes over
 * await cluster.waitUntilHealthy();
 * await cluster.destroy();
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const primaries = options.primaries ?? 3;
  const replicasPerPrimary = options.replicasPerPrimary ?? 1;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const count = primaries * (1 + replicasPerPrimary);
  const states: NodeState[] = [];
  const ports = new Set<number>();
  const uniquePort = async () => {
    for (;;) {
      const port = await freePort();
      if (!ports.has(port)) {
        ports.add(port);
        return port;
      }
    }
  };
  for (let i = 0; i < count; i++) {
    const port = await uniquePort();
    const busPort = await uniquePort();
    const dir = mkdtempSync(join(tmpdir(), 'repopulse-cluster-'));
    const state: NodeState = {
      port,
      busPort,
      dir,
      process: undefined,
      node: {
        host: '127.0.0.1',
        port,
        url: `redis://127.0.0.1:${port}`,
        get running() {
          return state.process !== undefined;
        },
      },
    };
    states.push(state);
  }

  const start = async (state: NodeState) => {
    const args = ['--port', String(state.port), '--bind', '127.0.0.1', '--dir', state.dir];
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf');
    args.push('--cluster-port', String(state.busPort), '--cluster-node-timeout', String(nodeTimeoutMs));
    args.push('--save', '', '--appendonly', options.appendonly ? 'yes' : 'no', '--appendfsync', 'always');
    // Let a lone replica take over whatever its primary's last contact was (tests kill nodes).
    args.push('--cluster-replica-validity-factor', '0');
    args.push('--cluster-require-full-coverage', options.requireFullCoverage === false ? 'no' : 'yes');
    // Replicas sync at once (the default waits 5 s for more replicas to share one transfer).
    args.push('--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0');
    const proc = await spawnRedis(state.port, args);
    state.process = proc;
    void proc.exited.then(() => {
      if (state.process === proc) state.process = undefined;
    });
  };
  const stateOf = (node: ClusterNode) => {
    const state = states.find((s) => s.node === node || s.port === node.port);
    if (!state) throw new Error(`port ${node.port} is not a node of this cluster`);
    return state;
  };

  const command = <T>(port: number, ...args: (string | number)[]): Promise<T> =>
    withRedis(port, async (redis) => (await redis.call(String(args[0]), ...args.slice(1))) as T);

  const roles = async (): Promise<ClusterNodeRole[]> => {
    let lastError: unknown;
    for (const state of states) {
      if (!state.process) continue;
      try {
        const text = await command<string>(state.port, 'CLUSTER', 'NODES');
        return parseClusterNodes(text, states);
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`no running cluster node answered CLUSTER NODES: ${String(lastError)}`);
  };

  const primaryOf = async (slot: number) => {
    const found = (await roles()).find(
      (r) => r.role === 'primary' && r.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!found) throw new Error(`no primary serves slot ${slot}`);
    return found;
  };

  const waitUntilHealthy = async (timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const why = await unhealthy(states, command);
      if (why === '') return;
      if (Date.now() >= deadline) {
        throw new Error(`the Redis Cluster did not become healthy within ${timeoutMs} ms: ${why}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const destroy = async () => {
    await Promise.all(states.map((s) => s.process?.stop('SIGKILL')));
    for (const s of states) {
      s.process = undefined;
      rmSync(s.dir, { recursive: true, force: true });
    }
  };

  try {
    await Promise.all(states.map(start));
    const addresses = states.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...addresses,
      '--cluster-replicas',
      String(replicasPerPrimary),
      '--cluster-yes',
    ]);
    await waitUntilHealthy();
  } catch (error) {
    await destroy();
    throw error;
  }

  return {
    nodes: states.map((s) => s.node),
    startupNodes: states.map((s) => ({ host: '127.0.0.1', port: s.port })),
    async kill(node, signal = 'SIGKILL') {
      const state = stateOf(node);
      await state.process?.stop(signal);
      state.process = undefined;
    },
    async restart(node) {
      const state = stateOf(node);
      if (state.process) return;
      await start(state);
    },
    async failover(replica) {
      const state = stateOf(replica);
      await command(state.port, 'CLUSTER', 'FAILOVER');
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const role = await command<unknown[]>(state.port, 'ROLE');
        if (role[0] === 'master') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await waitUntilHealthy(Math.max(0, deadline - Date.now()));
    },
    async migrateSlot(slot, target) {
      const source = await primaryOf(slot);
      const all = await roles();
      const destination = all.find((r) => r.node === target && r.role === 'primary');
      if (!destination) throw new Error(`port ${target.port} is not a primary`);
      if (destination.id === source.id) return;
      await command(target.port, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', source.id);
      await command(source.node.port, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', destination.id);
      for (;;) {
        const keys = await command<string[]>(source.node.port, 'CLUSTER', 'GETKEYSINSLOT', slot, 100);
        if (keys.length === 0) break;
        await command(source.node.port, 'MIGRATE', '127.0.0.1', target.port, '', 0, 5000, 'KEYS', ...keys);
      }
      for (const primary of [destination, source, ...all.filter((r) => r.role === 'primary')]) {
        await command(primary.node.port, 'CLUSTER', 'SETSLOT', slot, 'NODE', destination.id);
      }
      await waitUntilHealthy();
    },
    roles,
    slotOf: (key) =>
      command<number>(states.find((s) => s.process)?.port ?? states[0]!.port, 'CLUSTER', 'KEYSLOT', key),
    primaryOf,
    async replicasOf(slot) {
      const primary = await primaryOf(slot);
      return (await roles()).filter((r) => r.role === 'replica' && r.primaryId === primary.id);
    },
    waitUntilHealthy,
    destroy,
  };
}

/** Parses `CLUSTER NODES` into roles of our nodes (nodes marked failed or unknown are left out). */
function parseClusterNodes(text: string, states: NodeState[]): ClusterNodeRole[] {
  const result: ClusterNodeRole[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, address, flags, primaryId] = fields as [string, string, string, string];
    const port = Number(address.split('@')[0]!.split(':').at(-1));
    const state = states.find((s) => s.port === port);
    const flagList = flags.split(',');
    if (!state || flagList.includes('fail') || flagList.includes('noaddr')) continue;
    const slots: [number, number][] = [];
    for (const range of fields.slice(8)) {
      if (range.startsWith('[')) continue; // a slot being migrated or imported
      const [from, to] = range.split('-').map(Number) as [number, number | undefined];
      slots.push([from, to ?? from]);
    }
    result.push({
      node: state.node,
      id,
      role: flagList.includes('master') ? 'primary' : 'replica',
      primaryId: primaryId === '-' ? undefined : primaryId,
      slots,
    });
  }
  return result;
}

/** Why the cluster is not healthy yet, or '' when every running node says ok and agrees on the primaries. */
async function unhealthy(
  states: NodeState[],
  command: <T>(port: number, ...args: (string | number)[]) => Promise<T>,
): Promise<string> {
  const running = states.filter((s) => s.process);
  let owners: string | undefined;
  for (const state of running) {
    try {
      const info = await command<string>(state.port, 'CLUSTER', 'INFO');
      if (!info.includes('cluster_state:ok')) return `node ${state.port}: cluster_state not ok`;
      const nodes = await command<string>(state.port, 'CLUSTER', 'NODES');
      for (const line of nodes.split('\n')) {
        const [, address = '', flags = '', , , , , , ...slotRanges] = line.trim().split(' ');
        const port = Number(address.split('@')[0]!.split(':').at(-1));
        const flagList = flags.split(',');
        if (!running.some((s) => s.port === port)) continue;
        if (flagList.includes('fail') || flagList.includes('fail?')) {
          return `node ${state.port} sees running node ${port} as failed`;
        }
        if (flagList.includes('myself') && flagList.includes('master') && slotRanges.length === 0) {
          return `node ${state.port}: a primary without slots (rejoining)`;
        }
      }
      const replication = await command<string>(state.port, 'INFO', 'replication');
      if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) {
        return `replica ${state.port}: not in sync with its primary`;
      }
      const slots = await command<[number, number, [string, number, string], ...unknown[]][]>(
        state.port,
        'CLUSTER',
        'SLOTS',
      );
      let covered = 0;
      const view: string[] = [];
      for (const [from, to, [, primaryPort]] of slots) {
        if (!running.some((s) => s.port === primaryPort))
          return `node ${state.port}: primary ${primaryPort} is down`;
        covered += to - from + 1;
        view.push(`${from}-${to}@${primaryPort}`);
      }
      if (covered !== 16384) return `node ${state.port}: ${covered} of 16384 slots covered`;
      const key = view.sort().join(' ');
      if (owners !== undefined && owners !== key) return `nodes disagree about slot owners`;
      owners = key;
    } catch (error) {
      return `node ${state.port}: ${(error as Error).message}`;
    }
  }
  return running.length === 0 ? 'no node runs' : '';
}
