/**
 * UTF-8 byte length of a string, without allocating.
 * @internal
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Size of envelope JSON in bytes of UTF-8, as far as a limit of `maxBytes` needs it: a UTF-16 unit
 * is at most 3 bytes of UTF-8, so a text short enough is not counted (its length is returned).
 * @internal
 */
export function envelopeSize(json: string, maxBytes: number): number {
  return json.length * 3 <= maxBytes ? json.length : utf8Length(json);
}
