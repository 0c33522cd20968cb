/**
 * Node's text encoders and decoders of `Buffer`, as `Buffer#write` and `Buffer#toString` call
 * them once they have checked their arguments: the bus calls them per event on ranges it has
 * checked itself, where the checks cost more than the copy. Where a runtime has no such method,
 * the checked `Buffer` method is used.
 */
interface BufferCodecs {
  utf8Write?(text: string, offset: number): number;
  utf8Slice?(start: number, end: number): string;
  latin1Slice?(start: number, end: number): string;
}

const codecs = Buffer.prototype as unknown as BufferCodecs;

const utf8WriteOf =
  codecs.utf8Write ??
  function (this: Buffer, text: string, offset: number): number {
    return this.write(text, offset, 'utf8');
  };
const utf8SliceOf =
  codecs.utf8Slice ??
  function (this: Buffer, start: number, end: number): string {
    return this.toString('utf8', start, end);
  };
const latin1SliceOf =
  codecs.latin1Slice ??
  function (this: Buffer, start: number, end: number): string {
    return this.toString('latin1', start, end);
  };

/** Writes `text` as UTF-8 into `out` at `offset` (the caller made room for it); returns the bytes written. */
export function writeUtf8(out: Buffer, offset: number, text: string): number {
  return utf8WriteOf.call(out, text, offset);
}

/** The UTF-8 text of `bytes` from `start` to `end` (within `bytes`). */
export function readUtf8(bytes: Buffer, start: number, end: number): string {
  return utf8SliceOf.call(bytes, start, end);
}

/** The Latin-1 (for ASCII: the same) text of `bytes` from `start` to `end` (within `bytes`). */
export function readLatin1(bytes: Buffer, start: number, end: number): string {
  return latin1SliceOf.call(bytes, start, end);
}
