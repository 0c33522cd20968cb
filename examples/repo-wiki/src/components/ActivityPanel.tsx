import { useEventStream } from '@repopulse/client/react';
import {
  comparePositions,
  longPollUrl,
  parseLongPollBody,
  retainedTailAfter,
} from '@repopulse/events-core/wire';
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import {
  type ActivityGroup,
  type ActivityItem,
  type ActivityView,
  createActivityLog,
} from '../activity/activity-log';
import { describeEvent, groupOutcome, groupTitle } from '../activity/describe-event';
import { api } from '../api';
import { clock, duration } from '../format';
import type { Task } from '../types';

/** Rows rendered per step when a group is expanded ("Show more" adds as many). */
const ROW_PAGE = 100;
/** Groups rendered per step ("Show older actions" adds as many). */
const GROUP_PAGE = 30;
/** Events arriving within this window are applied in one render. */
const BATCH_MS = 50;

const EVENT_TYPES = [
  'action.started',
  'repo.created',
  'repo.status_changed',
  'task.status_changed',
  'task.queue_changed',
  'task.progress',
  'log.append',
  'doc.created',
  'repo.deleted',
];

/** How long the server keeps a repository's record (`GET /api/retention`). */
interface Retention {
  history_limit: number;
  history_ttl_ms: number | null;
}

const time = (ms: number) => `${clock(ms)}.${String(ms % 1000).padStart(3, '0')}`;

const EventRows = memo(function EventRows(props: {
  events: ActivityGroup['events'];
  filter: string;
  titles: ReadonlyMap<string, string>;
}) {
  const [shown, setShown] = useState(ROW_PAGE);
  const rows = props.filter ? props.events.filter((e) => e.event.type === props.filter) : props.events;
  return (
    <>
      <ol className="activity-events">
        {rows.slice(0, shown).map(({ position, event }) => (
          <li
            key={event.id}
            data-testid="activity-event"
            data-event-id={event.id}
            data-type={event.type}
            data-position={position}
          >
            <span className="mono muted">{time(event.ts)}</span>
            <span className="mono activity-type">{event.type}</span>
            <span className="activity-task">
              {event.task_id === undefined
                ? ''
                : (props.titles.get(event.task_id) ?? `task ${event.task_id}`)}
            </span>
            <span>{describeEvent(event)}</span>
          </li>
        ))}
      </ol>
      {rows.length > shown && (
        <button
          type="button"
          data-testid="activity-more-events"
          onClick={() => setShown((n) => n + ROW_PAGE)}
        >
          Show {Math.min(ROW_PAGE, rows.length - shown)} more of {rows.length - shown}
        </button>
      )}
    </>
  );
});

const GroupView = memo(function GroupView(props: {
  group: ActivityGroup;
  filter: string;
  titles: ReadonlyMap<string, string>;
}) {
  const { group, filter } = props;
  const [open, setOpen] = useState(false);
  const matching = filter
    ? group.events.reduce((n, e) => n + (e.event.type === filter ? 1 : 0), 0)
    : group.events.length;
  if (matching === 0) return null;
  const parts = [
    groupTitle(group),
    group.user,
    clock(group.first),
    `${group.events.length} event${group.events.length === 1 ? '' : 's'}${filter ? ` (${matching} shown)` : ''}`,
    duration(group.first, group.last),
    groupOutcome(group),
    group.traceId && `trace ${group.traceId.slice(0, 8)}`,
  ].filter(Boolean);
  return (
    <li
      className="activity-group"
      data-testid="activity-group-item"
      data-request-id={group.requestId}
      data-trace-id={group.traceId ?? ''}
      data-action={group.action ?? ''}
    >
      <button
        type="button"
        className="link"
        data-testid="activity-group"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        title={
          group.requestId
            ? `request_id ${group.requestId}${group.traceId ? ` · trace_id ${group.traceId}` : ''}`
            : 'events without a request id'
        }
      >
        {open ? '▾' : '▸'} {parts.join(' · ')}
      </button>
      {open && <EventRows events={group.events} filter={filter} titles={props.titles} />}
    </li>
  );
});

function historyNote(view: ActivityView, retention: Retention | undefined): string {
  const kept = retention
    ? `The server keeps the last ${retention.history_limit.toLocaleString('en-US')} events per repository${
        retention.history_ttl_ms ? ` for ${Math.round(retention.history_ttl_ms / 3_600_000)} h` : ''
      }.`
    : '';
  if (view.oldest === undefined) return `No events retained yet. ${kept}`;
  const since = new Date(view.oldest).toLocaleString([], { hour12: false });
  return `History since ${since} · ${view.total.toLocaleString('en-US')} events. ${kept}`;
}

/**
 * The event stream behind the feed, opened after `from`. On an expired reset of the full replay
 * that carries `retainedAfter`, it hands that point to `onTail` and stops forwarding (the feed
 * reopens the stream there, so a live event of this stream cannot overtake the tail).
 */
function ActivitySource(props: {
  url: string;
  from: string;
  push: (item: ActivityItem) => void;
  onTail: (after: string) => void;
  onState: (state: string) => void;
}) {
  const handedOver = useRef(false);
  const { on, state } = useEventStream(props.url, {
    lastEventId: props.from,
    fallback: { afterFailures: 5 },
    onReset: (reset) => {
      const tail = retainedTailAfter(reset, props.from);
      props.push({
        kind: 'reset',
        position: reset.position,
        reason: reset.reason,
        at: Date.now(),
        retainedAfter: tail,
      });
      if (tail === undefined) return;
      handedOver.current = true;
      props.onTail(tail);
    },
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: push only touches refs and setters
  useEffect(
    () =>
      on('*', (event, position) => {
        if (!handedOver.current) props.push({ kind: 'event', position, event });
      }),
    [on],
  );
  const { onState } = props;
  useEffect(() => onState(state), [onState, state]);
  return null;
}

/** The live feed: retained history replayed from `0-0`, then live events, grouped by action. */
function ActivityFeed(props: { repoId: number; tasks: Task[] }) {
  const url = `/api/repositories/${props.repoId}/events`;
  const log = useRef(createActivityLog());
  const pending = useRef<ActivityItem[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const [view, setView] = useState(() => log.current.view());
  const [head, setHead] = useState<string>();
  const [last, setLast] = useState<string>();
  const [retention, setRetention] = useState<Retention>();
  const [filter, setFilter] = useState('');
  const [groupsShown, setGroupsShown] = useState(GROUP_PAGE);

  const [from, setFrom] = useState('0-0');
  const [state, setState] = useState<string>('connecting');
  const push = (item: ActivityItem) => {
    pending.current.push(item);
    timer.current ??= setTimeout(() => {
      timer.current = undefined;
      const batch = pending.current;
      pending.current = [];
      setView(log.current.add(batch));
      // A reset followed by the retained tail is not the end of the replay: its events are.
      const reached = batch.filter((i) => i.kind === 'event' || !i.retainedAfter).at(-1)?.position;
      if (reached !== undefined) setLast(reached);
    }, BATCH_MS);
  };
  useEffect(() => () => clearTimeout(timer.current), []);

  useEffect(() => {
    // The head when the panel opened: the replay is complete once it got there.
    const target = longPollUrl(new URL(url, window.location.href), { waitSeconds: 0 });
    fetch(target, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then((res) => res.json())
      .then((body: unknown) => setHead(parseLongPollBody(body)?.position ?? '0-0'))
      .catch(() => setHead('0-0'));
    api<Retention>('/api/retention').then(setRetention, () => {});
  }, [url]);

  // The stream, from `0-0` first; an expired reset that says where the retained history starts
  // opens it again after that point (a new `from` remounts the source), so the tail is replayed.
  const source = (
    <ActivitySource key={from} url={url} from={from} push={push} onTail={setFrom} onState={setState} />
  );

  const titleKey = props.tasks.map((t) => `${t.id}\u0000${t.title}`).join('\u0001');
  // biome-ignore lint/correctness/useExhaustiveDependencies: titles change only when titleKey does
  const titles = useMemo(() => new Map(props.tasks.map((t) => [String(t.id), t.title])), [titleKey]);

  const loading =
    head === undefined || (head !== '0-0' && (last === undefined || comparePositions(last, head) < 0));
  return (
    <div data-testid="activity-feed" data-loading={loading} data-state={state}>
      {source}
      <p className="muted small" data-testid="activity-history">
        {historyNote(view, retention)}
        {loading && ` Loading history… ${view.total.toLocaleString('en-US')} events so far.`}
      </p>
      {view.resets.map((r) => (
        <p
          key={`${r.position}-${r.at}`}
          className="error small"
          data-testid="activity-reset"
          data-reason={r.reason}
        >
          {r.retainedAfter
            ? `History up to ${r.retainedAfter} is no longer retained (${r.reason}): older events are gone; showing the retained events after it.`
            : `History before ${r.position} is no longer retained (${r.reason}): older events are gone; showing what came after.`}
        </p>
      ))}
      <label className="small">
        Event type{' '}
        <select data-testid="activity-filter" value={filter} onChange={(e) => setFilter(e.target.value)}>
          <option value="">all</option>
          {EVENT_TYPES.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
      </label>
      <ul className="activity-groups" data-testid="activity-groups">
        {view.groups.slice(0, groupsShown).map((group) => (
          <GroupView key={group.requestId} group={group} filter={filter} titles={titles} />
        ))}
      </ul>
      {view.groups.length > groupsShown && (
        <button
          type="button"
          data-testid="activity-more-groups"
          onClick={() => setGroupsShown((n) => n + GROUP_PAGE)}
        >
          Show older actions ({view.groups.length - groupsShown})
        </button>
      )}
    </div>
  );
}

/**
 * The repository's record: what happened and which action caused it. Closed by default (no
 * stream until opened); opened, it replays the retained history from the bus and follows live.
 */
export function ActivityPanel(props: { repoId: number; tasks: Task[] }) {
  const [open, setOpen] = useState(false);
  return (
    <section className="activity" data-testid="activity">
      <h2>
        <button
          type="button"
          className="link"
          data-testid="activity-toggle"
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? '▾' : '▸'} Activity
        </button>
      </h2>
      {open && <ActivityFeed repoId={props.repoId} tasks={props.tasks} />}
    </section>
  );
}
