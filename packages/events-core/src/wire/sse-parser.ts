/** One dispatched event of a `text/event-stream` body (WHATWG "dispatch the event"). */
export interface SseMessage {
  /** The last event ID after this dispatch (it persists across events; an empty `id:` clears it). */
  id: string;
  /** The `event:` field; `'message'` when absent or empty. */
  event: string;
  /** The `data:` lines joined with LF; `undefined` when the block had no `data:` (only `id:` or nothing). */
  data: string | undefined;
}

/**
 * A streaming parser of the WHATWG event-stream format, fed decoded text (decode with a streaming
 * `TextDecoder`, which strips the leading BOM and joins UTF-8 split across chunks). Lines end with
 * CRLF, LF or CR (a CRLF split across two chunks counts once); `:` starts a comment; one leading
 * space of a value is stripped; unknown fields are ignored; `id` values containing NUL are
 * ignored; `retry` is honoured only when all ASCII digits. Every blank line dispatches: the last
 * event ID is updated even for a block without `data:` (then `data` is `undefined`). A block left
 * unterminated when the stream ends is never dispatched.
 *
 * @param id The last event ID so far (it carries over from the previous connection).
 * @example
 * ```ts
 * const feed = createSseParser((message) => console.log(message), (ms) => console.log('retry', ms));
 * feed('id: 1-0\nevent: log.append\ndata: {"type":"log.append"}\n\n');
 * // { id: '1-0', event: 'log.append', data: '{"type":"log.append"}' }
 * ```
 */
export function createSseParser(
  onMessage: (message: SseMessage) => void,
  onRetry: (ms: number) => void,
  id = '',
): (text: string) => void {
  let rest = '';
  let data: string | undefined;
  let event = '';
  let cr = false;
  return (text) => {
    if (!text) return;
    const lines = (rest + (cr && text[0] === '\n' ? text.slice(1) : text)).split(/\r\n?|\n/);
    cr = text.at(-1) === '\r';
    rest = lines.pop() as string;
    for (const line of lines) {
      if (!line) {
        onMessage({ id, event: event || 'message', data: data?.slice(0, -1) });
        data = undefined;
        event = '';
        continue;
      }
      const [, field, value = ''] = /^([^:]*)(?:: ?(.*))?$/s.exec(line) as string[];
      if (field === 'data') data = `${data ?? ''}${value}\n`;
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) onRetry(+value);
    }
  };
}
