/** A thin progress bar. */
export function ProgressBar(props: { percent: number; phase: string | null }) {
  const pct = Math.max(0, Math.min(100, props.percent));
  return (
    <div className="progress" title={props.phase ?? ''} data-percent={pct}>
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}
