// Paged reads (?limit=&offset=). A daemon that does not know them yet answers
// 400 for the parameter; then the whole list is read at once.

import { get, ApiError } from './api.js';

export async function getPaged(path, params, limit, offset = 0) {
  const query = new URLSearchParams(params);
  query.set('limit', String(limit));
  if (offset) query.set('offset', String(offset));
  const sep = path.includes('?') ? '&' : '?';
  try {
    return await get(`${path}${sep}${query}`);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 400 || offset) throw e;
    const plain = new URLSearchParams(params).toString();
    return get(plain ? `${path}${sep}${plain}` : path);
  }
}
