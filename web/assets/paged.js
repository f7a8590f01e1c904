// Paged reads: the first page at the server's default size (?limit= is left to
// it), the next ones from the `next_offset` it sent.

import { get } from './api.js';

export async function getPaged(path, params, offset = 0) {
  const query = new URLSearchParams(params);
  if (offset) query.set('offset', String(offset));
  const text = query.toString();
  return get(text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path);
}
