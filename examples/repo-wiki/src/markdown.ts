import { marked, type Renderer, type Tokens } from 'marked';

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Schemes a rendered link may have; anything else (`javascript:`, `data:`, relative) stays text. */
const SAFE_HREF = /^(https?:\/\/|mailto:)/i;

const renderer = new marked.Renderer();
// Raw HTML in a document is shown as text, never parsed as markup.
renderer.html = ({ text }) => escapeHtml(text);
renderer.link = function (this: Renderer, { href, title, tokens }: Tokens.Link) {
  const text = this.parser.parseInline(tokens);
  if (!SAFE_HREF.test(href)) return text;
  const titled = title ? ` title="${escapeHtml(title)}"` : '';
  return `<a href="${escapeHtml(href)}"${titled} rel="noopener noreferrer nofollow">${text}</a>`;
};
// Documents need no images: an image is shown as its alt text (nothing is fetched).
renderer.image = ({ text }: Tokens.Image) => escapeHtml(text);

/**
 * Renders a document's Markdown to HTML that is safe to insert: raw HTML escaped, links only to
 * http(s) and mailto, no images. (The server also escapes what users typed before it goes into a
 * document, and the page's Content-Security-Policy forbids inline script.)
 */
export function renderMarkdown(markdown: string): string {
  return marked.parse(markdown, { async: false, renderer }) as string;
}
