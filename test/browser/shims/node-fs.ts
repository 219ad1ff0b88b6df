// node:fs for the suites that run unchanged in Chromium (test/oracle.test.ts, test/parity.test.ts):
// their helpers read fixtures and .wasm files with readFileSync(new URL(..., import.meta.url)),
// which in the page is a URL on Vitest's server. A synchronous XMLHttpRequest reads it the same
// way (binary through the x-user-defined charset). vitest.config.ts aliases node:fs to this file
// in the browser project only.
function get(url: URL | string, binary: boolean): string {
  const xhr = new XMLHttpRequest();
  xhr.open("GET", String(url), false);
  if (binary) xhr.overrideMimeType("text/plain; charset=x-user-defined");
  xhr.send();
  if (xhr.status !== 200) throw new Error(`readFileSync(${url}): HTTP ${xhr.status}`);
  return xhr.responseText;
}

export function readFileSync(url: URL | string, encoding?: string | { encoding?: string }): string | Uint8Array {
  const enc = typeof encoding === "string" ? encoding : encoding?.encoding;
  if (enc !== undefined) return get(url, false);
  const text = get(url, true);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

export default { readFileSync };
