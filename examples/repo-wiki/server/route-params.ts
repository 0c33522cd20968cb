/**
 * A route id in its one canonical spelling (`1`, `42`: no sign, no leading zero, no exponent, at
 * most 15 digits), else `undefined`. Only canonical ids name a row or a topic, so `0042` and `42`
 * are never two names of one repository.
 */
export function canonicalId(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || !/^[1-9]\d{0,14}$/.test(raw)) return undefined;
  return Number(raw);
}
