/** A colored status pill; `data-status` carries the raw status for tests. */
export function StatusBadge(props: { status: string; testId?: string }) {
  return (
    <span className={`badge badge-${props.status}`} data-status={props.status} data-testid={props.testId}>
      {props.status}
    </span>
  );
}
