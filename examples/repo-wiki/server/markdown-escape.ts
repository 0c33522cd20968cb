/** Line breaks and other control characters: a Markdown line must not end inside user input. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * `text` as literal Markdown text: every ASCII punctuation character backslash-escaped (so no
 * emphasis, link, image, HTML, heading, list, table or autolink can start inside it), control
 * characters replaced by spaces.
 *
 * @example markdownText('**x**') // '\\*\\*x\\*\\*'
 */
export function markdownText(text: string): string {
  return text.replace(CONTROL, ' ').replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/**
 * `text` as one inline code span: fenced by more backticks than the longest run inside it (so
 * the text cannot close the span early), padded with spaces when it starts or ends with a
 * backtick; control characters replaced by spaces. Inside a code span nothing is Markdown.
 *
 * @example markdownCode('a`b') // '`` a`b ``'
 */
export function markdownCode(text: string): string {
  const flat = text.replace(CONTROL, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') || /^ .* $/.test(flat) ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}
