// Live updates: Server-Sent Events from /api/stream. When the stream fails
// (the agent restarting, a proxy dropping it, the agent refusing or
// evicting it at its stream cap) the dashboard polls at once and keeps
// trying the stream again with a growing delay, and goes back to it as soon
// as a snapshot arrives. The browser's own EventSource reconnect is not
// enough: after a refusal (a 503) it gives up for good.
import { get } from './api.js';

const POLL_MS = 5000;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30000;

export function connect(onSnapshot, onState) {
  let live = false;
  let pollTimer = null;
  let retryTimer = null;
  let retryDelay = RETRY_FIRST_MS;

  const poll = async () => {
    try {
      const [devices, metrics, auto] = await Promise.all([get('/api/devices'), get('/api/metrics'), get('/api/auto_toggle')]);
      if (live) return;  // the stream came back while this poll was on its way
      onSnapshot({ ts_ms: Date.now(), devices: devices.devices, metrics: metrics.metrics, auto: auto.auto });
      onState('polling');
    } catch {
      if (!live) onState('offline');
    }
  };
  const startPolling = () => {
    if (pollTimer) return;
    poll();
    pollTimer = setInterval(poll, POLL_MS);
  };
  const stopPolling = () => {
    clearInterval(pollTimer);
    pollTimer = null;
  };

  // Doubling delays with some jitter, so dashboards dropped together (an
  // agent restart) do not all come back in the same instant.
  const retryLater = () => {
    if (retryTimer) return;
    const delay = retryDelay * (0.75 + Math.random() / 2);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
    retryTimer = setTimeout(() => { retryTimer = null; open(); }, delay);
  };

  const open = () => {
    const source = new EventSource('/api/stream');
    source.addEventListener('snapshot', (event) => {
      live = true;
      retryDelay = RETRY_FIRST_MS;
      stopPolling();
      onState('live');
      onSnapshot(JSON.parse(event.data));
    });
    source.addEventListener('error', () => {
      source.close();  // our retry replaces the browser's
      live = false;
      onState('offline');
      startPolling();
      retryLater();
    });
  };
  open();
}
