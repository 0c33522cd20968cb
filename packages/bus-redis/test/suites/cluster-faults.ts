import { collect, numbered } from '@repopulse/bus-contract';
import { isRepoPulseError, type StreamPosition } from '@repopulse/events-core';
import type { ClusterNode, RedisCluster, RedisClusterOptions } from '@repopulse/test-support';
import { Cluster } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisBus, DEFAULT_KEY_PREFIX, type RedisBusOptions, topicKey } from '../../src/index';
import {
  checkPublishes,
  checkSubscriber,
  type PublishRecord,
  publishUntilStopped,
  storedEntries,
  topicsOnEveryShard,
} from '../cluster-checks';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const longestGap = (times: number[]) =>
  times.reduce((max, t, i) => (i ? Math.max(max, t - times[i - 1]!) : 0), 0);

/**
 * The cluster these faults need: 3 primaries with 2 replicas each (after a failover the new
 * primary still has a replica to confirm publishes, `replicaAcks` 1), AOF on every node (a
 * restarted node keeps its data), and the other shards keep serving while one shard has no
 * primary at all.
 */
export const FAULTS_CLUSTER: RedisClusterOptions = {
  replicasPerPrimary: 2,
  appendonly: true,
  requireFullCoverage: false,
};

/**
 * Cluster behaviour for one ioredis major, on a cluster started with {@link FAULTS_CLUSTER}:
 * two buses on different nodes, a SIGKILLed primary and a manual `CLUSTER FAILOVER` mid-stream,
 * and a shard lost for longer than `publishTimeoutMs`.
 */
export function clusterFaultsSuite(client: string, cluster: () => RedisCluster): void {
  describe(`bus-redis on a Redis Cluster (${client}): shards, failover, a lost shard`, () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    const bus = (nodes: ClusterNode[], options: Partial<RedisBusOptions> = {}) => {
      const b = createRedisBus({
        cluster: nodes.map(({ host, port }) => ({ host, port })),
        onError: () => {},
        ...options,
      });
      cleanup.unshift(() => b.close());
      return b;
    };
    const admin = async () => {
      const client = new Cluster(cluster().startupNodes, { redisOptions: { maxRetriesPerRequest: 3 } });
      client.on('error', () => {});
      cleanup.unshift(async () => client.disconnect());
      await new Promise((resolve) => client.once('ready', resolve));
      return client;
    };
    afterEach(async () => {
      for (const step of cleanup.splice(0)) await step();
      await cluster().waitUntilHealthy();
    });

    it('two buses on different nodes: topics spread over every shard, one sharded subscriber connection per node', async () => {
      const c = cluster();
      const [a, b] = [bus([c.nodes[0]!]), bus([c.nodes[c.nodes.length - 1]!])];
      const topics = await topicsOnEveryShard(c, 'spread', 2);
      expect(new Set(topics.map((t) => t.primary.id)).size).toBe(3);
      const subs = [];
      for (const { topic } of topics) {
        subs.push(
          await collect(a, topic),
          await collect(a, topic),
          await collect(b, topic, { after: '0-0' }),
        );
      }
      for (let i = 0; i < 10; i++) {
        for (const { topic } of topics) await (i % 2 ? a : b).publish(topic, numbered(i));
      }
      for (const sub of subs) {
        await sub.waitForEvents(10, 5000);
        expect(sub.numbers()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }
      // Each topic's channel lives on its slot's primary, subscribed once per bus (not per subscription)…
      const redis = await admin();
      for (const { topic, primary } of topics) {
        const node = redis.nodes('master').find((n) => n.options.port === primary.node.port)!;
        const [, count] = (await node.call('PUBSUB', 'SHARDNUMSUB', topicKey(DEFAULT_KEY_PREFIX, topic))) as [
          string,
          number,
        ];
        expect(count).toBe(2);
      }
      // …and each bus holds exactly one sharded subscriber connection per primary.
      for (const primary of redis.nodes('master')) {
        const clients = (await primary.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
        expect(clients.trim().split('\n').filter(Boolean)).toHaveLength(2);
      }
    });

    /**
     * Publishes to a topic on every shard (two buses, via different nodes) while `fault` runs,
     * then checks every publish and every subscriber against the stored streams.
     */
    const midStream = async (
      label: string,
      fault: (c: RedisCluster, victimSlot: number) => Promise<void>,
    ) => {
      const c = cluster();
      const options = { publishTimeoutMs: 4000 };
      const [a, b] = [bus([c.nodes[0]!], options), bus([c.nodes[c.nodes.length - 1]!], options)];
      const topics = await topicsOnEveryShard(c, label);
      const victim = topics[0]!;
      const subs = new Map<
        string,
        { collector: Awaited<ReturnType<typeof collect>>; from: StreamPosition }[]
      >();
      const victimDeliveredAt: number[] = [];
      for (const { topic } of topics) {
        const head = await a.head(topic);
        const onDelivery = topic === victim.topic ? () => void victimDeliveredAt.push(Date.now()) : undefined;
        subs.set(topic, [
          { collector: await collect(a, topic, {}, onDelivery), from: head },
          { collector: await collect(b, topic), from: head },
          { collector: await collect(b, topic, { after: '0-0' }), from: '0-0' as StreamPosition },
        ]);
      }
      const publishers = topics.map(({ topic }, i) => ({
        topic,
        ...publishUntilStopped(i % 2 ? a : b, topic),
      }));
      await sleep(300);
      await fault(c, victim.slot);
      await c.waitUntilHealthy();
      const healthyAt = Date.now();
      await sleep(500);
      for (const p of publishers) await p.stop();

      // What the failover cost on the victim's shard: the longest wait between two acknowledged
      // publishes, and between two deliveries to one live subscriber (normally ~5 ms apart).
      const victimRecords = publishers[0]!.records;
      const acknowledgedAt = victimRecords.flatMap((r) => (r.position ? [r.settledAt] : []));
      const recovered = victimRecords.some((r) => r.calledAt >= healthyAt && r.position !== undefined);
      const redis = await admin();
      const report: Record<string, unknown> = { label };
      let resets = 0;
      let lost = 0;
      for (const p of publishers) {
        const stored = await storedEntries(redis, p.topic);
        const counts = checkPublishes(p.records, stored);
        lost += p.records.filter((r) => r.position && !stored.some((s) => s.eventId === r.eventId)).length;
        for (const { collector, from } of subs.get(p.topic)!) {
          await vi.waitFor(() => {
            const seen = collector.deliveries.at(-1);
            if (stored.length > 0 && seen?.position !== stored.at(-1)!.position)
              throw new Error('not caught up');
          }, 10_000);
          resets += checkSubscriber(collector, stored, from);
        }
        report[p.topic] = counts;
      }
      Object.assign(report, {
        rejectedWith: [
          ...new Set(publishers.flatMap((p) => p.records.flatMap((r) => (r.error ? [String(r.error)] : [])))),
        ],
        publishStallMs: longestGap(acknowledgedAt),
        deliveryStallMs: longestGap(victimDeliveredAt),
        resets,
        lostAcknowledged: lost,
      });
      console.log(`[cluster ${label}]`, JSON.stringify(report));
      expect(lost).toBe(0);
      expect(recovered).toBe(true); // publishing to the shard works again, on the same buses
      return { records: victimRecords as PublishRecord[], resets };
    };

    it('a primary SIGKILLed mid-stream: its replica takes over; nothing acknowledged is lost, subscribers see every stored event once, in order', async () => {
      let killed: ClusterNode | undefined;
      await midStream('sigkill', async (c, slot) => {
        killed = (await c.primaryOf(slot)).node;
        await c.kill(killed);
        await vi.waitFor(
          async () => {
            if ((await c.primaryOf(slot)).node === killed) throw new Error('no failover yet');
          },
          { timeout: 15_000, interval: 50 },
        );
      });
      // The old primary comes back as a replica of the promoted one.
      await cluster().restart(killed!);
      await cluster().waitUntilHealthy();
      // A loaded machine may list the restarted node as a replica a little after the cluster is healthy.
      const slot = (await topicsOnEveryShard(cluster(), 'sigkill'))[0]!.slot;
      await vi.waitFor(
        async () => expect((await cluster().replicasOf(slot)).map((r) => r.node)).toContain(killed),
        { timeout: 15_000, interval: 100 },
      );
    });

    it('a manual CLUSTER FAILOVER mid-stream: no publish fails, no reset, nothing lost', async () => {
      const { records, resets } = await midStream('manual', async (c, slot) => {
        const [replica] = await c.replicasOf(slot);
        await c.failover(replica!.node);
      });
      expect(records.flatMap((r) => (r.error ? [String(r.error)] : []))).toEqual([]);
      expect(resets).toBe(0);
    });

    it("a topic's slot migrated to another primary mid-stream: publishes follow it, subscribers follow it, nothing lost", async () => {
      let target: ClusterNode | undefined;
      const { records, resets } = await midStream('migrate', async (c, slot) => {
        const owner = await c.primaryOf(slot);
        target = (await c.roles()).find((r) => r.role === 'primary' && r.id !== owner.id)!.node;
        await c.migrateSlot(slot, target);
      });
      expect(
        (await cluster().primaryOf((await topicsOnEveryShard(cluster(), 'migrate'))[0]!.slot)).node,
      ).toBe(target);
      expect(records.flatMap((r) => (r.error ? [String(r.error)] : []))).toEqual([]);
      expect(resets).toBe(0);
    });

    it('a shard lost longer than publishTimeoutMs: its publishes reject with BusUnavailableError, other shards keep working, and it recovers by itself', async () => {
      const c = cluster();
      const publishTimeoutMs = 800;
      const publisher = bus([c.nodes[0]!], { publishTimeoutMs });
      const subscriberBus = bus([c.nodes[1]!], { publishTimeoutMs });
      const [lostShard, otherShard] = await topicsOnEveryShard(c, 'lost');
      const live = await collect(subscriberBus, lostShard!.topic);
      for (let i = 0; i < 5; i++) await publisher.publish(lostShard!.topic, numbered(i));
      await live.waitForEvents(5, 5000);

      const replicas = await c.replicasOf(lostShard!.slot);
      const primary = await c.primaryOf(lostShard!.slot);
      for (const replica of replicas) await c.kill(replica.node);
      await c.kill(primary.node);
      const started = Date.now();
      const refused = await publisher.publish(lostShard!.topic, numbered(5)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isRepoPulseError(refused, 'bus_unavailable'), String(refused)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(publishTimeoutMs - 50);
      // Subscribing to and reading its topics fail the same typed way, within the bound.
      for (const attempt of [
        () => subscriberBus.subscribe(lostShard!.topic, () => {}),
        () => subscriberBus.head(lostShard!.topic),
      ]) {
        const error = await attempt().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isRepoPulseError(error, 'bus_unavailable'), String(error)).toBe(true);
      }
      // The shard stays down for longer than the bound; the other shards are not affected.
      await publisher.publish(otherShard!.topic, numbered(0));
      await sleep(publishTimeoutMs);
      expect(
        await publisher.publish(lostShard!.topic, numbered(6)).then(
          () => 'stored',
          (error: unknown) => (isRepoPulseError(error, 'bus_unavailable') ? 'unavailable' : error),
        ),
      ).toBe('unavailable');

      // Back (primary first, so it keeps its role): the same buses recover without any help.
      await c.restart(primary.node);
      for (const replica of replicas) await c.restart(replica.node);
      await c.waitUntilHealthy();
      await vi.waitFor(() => publisher.publish(lostShard!.topic, numbered(7)), {
        timeout: 15_000,
        interval: 100,
      });
      for (let i = 8; i < 10; i++) await publisher.publish(lostShard!.topic, numbered(i));
      const stored = await storedEntries(await admin(), lostShard!.topic);
      await vi.waitFor(() => {
        if (live.deliveries.at(-1)?.position !== stored.at(-1)!.position) throw new Error('not caught up');
      }, 10_000);
      checkSubscriber(live, stored, '0-0' as StreamPosition);
      expect(live.resets()).toEqual([]); // the shard came back with its data (AOF): no reset needed
      expect(live.numbers().slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
      expect(live.numbers().slice(-3)).toEqual([7, 8, 9]);
    });
  });
}
