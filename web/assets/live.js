// Live updates: GET /api/v1/events read with fetch() and a stream reader (so it
// can send the token), a debounced refresh per event; polling every 5 s while
// the stream is down.

import { headers } from './api.js';

const POLL_MS = 5000;
const DEBOUNCE_MS = 150;

export function startLive(refresh, onMode = () => {}) {
  let timer = null;
  let poller = null;
  let retry = 2000;     // the server's retry: field
  let backoff = 2000;   // grows while the stream keeps failing
  let opened = false;

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  };
  const poll = (on) => {
    if (on && !poller) poller = setInterval(refresh, POLL_MS);
    if (!on && poller) { clearInterval(poller); poller = null; }
    onMode(on ? 'polling' : 'live');
  };

  // One SSE frame: `event:`, `data:`, `id:`, `retry:` lines; comments start with ':'.
  const frame = (text) => {
    let event = 'message';
    let data = false;
    for (const line of text.split('\n')) {
      if (line.startsWith('retry:')) retry = Number(line.slice(6)) || retry;
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data = true;
    }
    if (data && event) schedule();
  };

  const connect = async () => {
    try {
      const res = await fetch('/api/v1/events', {
        headers: headers({ Accept: 'text/event-stream' }), cache: 'no-store', credentials: 'omit',
      });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      poll(false);
      backoff = retry;
      if (opened) refresh();  // what changed while the stream was down
      opened = true;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          frame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      /* falls back to polling below */
    }
    poll(true);
    setTimeout(connect, backoff);
    backoff = Math.min(Math.max(backoff, retry) * 2, 60000);
  };
  connect();
}
