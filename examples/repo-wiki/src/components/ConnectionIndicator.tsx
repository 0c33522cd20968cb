import type { EventStreamState } from '@repopulse/client';

const LABELS: Record<string, string> = {
  open: 'live',
  connecting: 'reconnecting',
  polling: 'polling',
  probing: 'polling',
  closed: 'offline',
};

/** Shows the event connection: live, reconnecting, polling or offline. */
export function ConnectionIndicator(props: { state: EventStreamState }) {
  const label = LABELS[props.state] ?? props.state;
  return (
    <span
      className={`conn conn-${label}`}
      data-testid="connection"
      data-state={label}
      title={`event stream: ${label}`}
    >
      <span className="dot" /> {label}
    </span>
  );
}
