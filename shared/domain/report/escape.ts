/**
 * HTML escaping for the report. MJML copies the content of `mj-text` and `mj-table` into the
 * output verbatim, so every string that reaches the template goes through these first.
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
  '=': '&#61;',
};

/** Escapes text for an HTML element body or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`=]/g, (c) => ENTITIES[c] ?? c);
}

/** An https (or, for a local stack, http) URL fit for an href, escaped; null for anything else. */
export function safeHref(url: string | null | undefined): string | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  return escapeHtml(parsed.toString());
}
