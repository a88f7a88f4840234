import type { ChartImage } from './types.ts';

/**
 * Replaces `cid:` image references with data: URIs, giving the email's HTML as one self-contained
 * file a browser can open (a browser cannot resolve cid: URLs).
 */
export function inlineImagesAsDataUris(html: string, images: readonly ChartImage[]): string {
  let out = html;
  for (const img of images) {
    const uri = `data:image/png;base64,${Buffer.from(img.png).toString('base64')}`;
    out = out.split(`cid:${img.cid}`).join(uri);
  }
  return out;
}
