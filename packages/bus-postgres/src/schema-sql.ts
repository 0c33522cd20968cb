/** Default {@link PostgresBusOptions.schema}: the schema holding the bus's tables and functions. */
export const DEFAULT_SCHEMA = 'repopulse';

/** Quotes an SQL identifier (`"name"`, inner quotes doubled). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The SQL that creates the bus's tables and functions in `schema` (idempotent: `IF NOT EXISTS`,
 * `CREATE OR REPLACE`). The package ships it for the default schema as `sql/schema.sql`
 * (`@repopulse/bus-postgres/schema.sql`), for teams that run migrations themselves; this function
 * gives the same text for another schema.
 *
 * - `topics`: one head row per topic. Its last issued position, the newest position that left the
 *   history (`floor`), the position of its latest drop, and how many events it retains. Every
 *   append locks it until its transaction ends, so a topic's positions are issued in commit order.
 * - `events`: the retained events, keyed by `(topic, ms, seq)`, with a unique `(topic, event_id)`
 *   (an id is remembered as long as its event is retained).
 * - `append_events(…)` and `drop_topic(…)`: one call per publish / drop, so a publish is one round trip
 *   and runs inside whatever transaction the calling connection has open.
 *
 * @example
 * ```ts
 * await client.query(postgresBusSchemaSql('events')); // in a migration
 * const bus = createPostgresBus({ pool, schema: 'events', createTables: false });
 * ```
 */
export function postgresBusSchemaSql(schema: string = DEFAULT_SCHEMA): string {
  const s = quoteIdentifier(schema);
  return `-- Tables and functions of @repopulse/bus-postgres in schema ${s}. Idempotent.
CREATE SCHEMA IF NOT EXISTS ${s};

-- One head row per topic. Appends lock it until their transaction ends: positions are issued in
-- commit order, one appending transaction per topic at a time.
CREATE TABLE IF NOT EXISTS ${s}.topics (
  topic text PRIMARY KEY,
  last_ms bigint NOT NULL,   -- the last issued position <last_ms>-<last_seq>
  last_seq bigint NOT NULL,
  floor_ms bigint,           -- the newest position that left the history (NULL: none did)
  floor_seq bigint,
  dropped_ms bigint,         -- the position of the latest drop (NULL: never dropped)
  dropped_seq bigint,
  retained integer NOT NULL DEFAULT 0  -- events in the history
);

-- The retained events; <ms>-<seq> is the position, ms the server's clock when it was appended.
CREATE TABLE IF NOT EXISTS ${s}.events (
  topic text NOT NULL,
  ms bigint NOT NULL,
  seq bigint NOT NULL,
  event_id text NOT NULL,
  envelope text NOT NULL,
  PRIMARY KEY (topic, ms, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON ${s}.events (topic, event_id);

-- Appends a batch of events to one topic, in order, idempotent by event id: one row per event in
-- order, its position (stored_envelope NULL), or the position and envelope of the retained event
-- with the same id (nothing stored). Every row also carries the topic's head before the batch and
-- the server process that notifies: a bus that has read up to that head can hand the new events to
-- its subscribers at once, and skip the wake-up the notification brings. Trims the topic by age
-- and count (keeping at least p_history_limit events) and notifies p_channel (at commit) once, with
-- the batch's last position as payload: a bus that has delivered up to it ignores the wake-up.
CREATE OR REPLACE FUNCTION ${s}.append_events(
  p_topic text, p_channel text, p_event_ids text[], p_envelopes text[],
  p_history_limit integer, p_history_ttl_ms bigint, p_lock_timeout_ms integer
) RETURNS TABLE (position_ms bigint, position_seq bigint, stored_envelope text,
  previous_ms bigint, previous_seq bigint, notifier integer)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  head record;
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  head_ms bigint;
  head_seq bigint;
  gone_count integer;
  gone_ms bigint;
  gone_seq bigint;
  new_floor_ms bigint;
  new_floor_seq bigint;
  kept integer;
  stored integer := 0;
  i integer;
BEGIN
  IF p_lock_timeout_ms IS NOT NULL THEN
    PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
  END IF;
  SELECT t.last_ms, t.last_seq, t.retained INTO head
    FROM ${s}.topics t WHERE t.topic = p_topic FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO ${s}.topics (topic, last_ms, last_seq) VALUES (p_topic, 0, 0)
      ON CONFLICT (topic) DO NOTHING;
    SELECT t.last_ms, t.last_seq, t.retained INTO head
      FROM ${s}.topics t WHERE t.topic = p_topic FOR UPDATE;
  END IF;
  kept := head.retained;
  head_ms := head.last_ms;
  head_seq := head.last_seq;
  previous_ms := head_ms;
  previous_seq := head_seq;
  notifier := pg_backend_pid();

  -- The age limit first: an expired event's id is forgotten with it.
  IF p_history_ttl_ms > 0 THEN
    WITH gone AS (
      DELETE FROM ${s}.events e WHERE e.topic = p_topic AND e.ms < now_ms - p_history_ttl_ms
      RETURNING e.ms, e.seq
    )
    SELECT count(*) OVER (), g.ms, g.seq INTO gone_count, gone_ms, gone_seq
      FROM gone g ORDER BY g.ms DESC, g.seq DESC LIMIT 1;
    IF gone_count > 0 THEN
      kept := greatest(kept - gone_count, 0);
      new_floor_ms := gone_ms;
      new_floor_seq := gone_seq;
    END IF;
  END IF;

  FOR i IN 1 .. coalesce(array_length(p_event_ids, 1), 0) LOOP
    SELECT e.ms, e.seq, e.envelope INTO position_ms, position_seq, stored_envelope
      FROM ${s}.events e WHERE e.topic = p_topic AND e.event_id = p_event_ids[i];
    IF NOT FOUND THEN
      IF now_ms > head_ms THEN
        head_ms := now_ms;
        head_seq := 0;
      ELSE
        head_seq := head_seq + 1;
      END IF;
      INSERT INTO ${s}.events (topic, ms, seq, event_id, envelope)
        VALUES (p_topic, head_ms, head_seq, p_event_ids[i], p_envelopes[i]);
      position_ms := head_ms;
      position_seq := head_seq;
      stored_envelope := NULL;
      stored := stored + 1;
    END IF;
    RETURN NEXT;
  END LOOP;
  kept := kept + stored;

  -- The count limit, in steps: a topic may hold up to an eighth more (at most 128 more) events
  -- than the limit, then the oldest go down to the limit in one DELETE, not one per append.
  IF kept > p_history_limit + least(p_history_limit / 8, 128) THEN
    WITH gone AS (
      DELETE FROM ${s}.events e WHERE (e.topic, e.ms, e.seq) IN (
        SELECT o.topic, o.ms, o.seq FROM ${s}.events o
        WHERE o.topic = p_topic ORDER BY o.ms, o.seq LIMIT kept - p_history_limit
      )
      RETURNING e.ms, e.seq
    )
    SELECT count(*) OVER (), g.ms, g.seq INTO gone_count, gone_ms, gone_seq
      FROM gone g ORDER BY g.ms DESC, g.seq DESC LIMIT 1;
    IF gone_count > 0 THEN
      new_floor_ms := gone_ms;
      new_floor_seq := gone_seq;
    END IF;
    IF coalesce(gone_count, 0) < kept - p_history_limit THEN
      -- The count was off (rows deleted behind the bus's back): count again.
      SELECT count(*) INTO kept FROM ${s}.events e WHERE e.topic = p_topic;
    ELSE
      kept := kept - gone_count;
    END IF;
  END IF;

  IF stored > 0 OR new_floor_ms IS NOT NULL THEN
    UPDATE ${s}.topics t SET last_ms = head_ms, last_seq = head_seq, retained = kept,
        floor_ms = coalesce(new_floor_ms, t.floor_ms), floor_seq = coalesce(new_floor_seq, t.floor_seq)
      WHERE t.topic = p_topic;
  END IF;
  IF stored > 0 THEN
    PERFORM pg_notify(p_channel, head_ms || '-' || head_seq);
  END IF;
END
$fn$;

-- Drops a topic's history and remembered ids. The drop takes a position of its own (the new head
-- and floor: later events follow it, every earlier position reads as trimmed away) and notifies
-- p_channel with it. Returns that position; nothing for a topic never written.
CREATE OR REPLACE FUNCTION ${s}.drop_topic(p_topic text, p_channel text, p_lock_timeout_ms integer)
RETURNS TABLE (position_ms bigint, position_seq bigint)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  head record;
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
BEGIN
  IF p_lock_timeout_ms IS NOT NULL THEN
    PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
  END IF;
  SELECT t.last_ms, t.last_seq INTO head FROM ${s}.topics t WHERE t.topic = p_topic FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF now_ms > head.last_ms THEN
    position_ms := now_ms;
    position_seq := 0;
  ELSE
    position_ms := head.last_ms;
    position_seq := head.last_seq + 1;
  END IF;
  DELETE FROM ${s}.events e WHERE e.topic = p_topic;
  UPDATE ${s}.topics t SET last_ms = position_ms, last_seq = position_seq, retained = 0,
      floor_ms = position_ms, floor_seq = position_seq,
      dropped_ms = position_ms, dropped_seq = position_seq
    WHERE t.topic = p_topic;
  PERFORM pg_notify(p_channel, position_ms || '-' || position_seq);
  RETURN NEXT;
END
$fn$;
`;
}

/** The signatures whose presence says the schema is set up (checked at start). */
export function schemaObjects(schema: string): string[] {
  const s = quoteIdentifier(schema);
  return [
    `${s}.append_events(text,text,text[],text[],integer,bigint,integer)`,
    `${s}.drop_topic(text,text,integer)`,
  ];
}
