/** `hh:mm:ss` of an epoch-ms time. */
export function clock(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** A duration like `1.4 s` between two epoch-ms times. */
export function duration(from: number | null, to: number | null): string {
  if (from === null || to === null) return '';
  const s = (to - from) / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
