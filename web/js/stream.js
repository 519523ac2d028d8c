// Live updates: Server-Sent Events from /api/stream, with the browser's
// reconnect; when the stream cannot be held, polling every 5 s.
import { get } from './api.js';

export function connect(onSnapshot, onState) {
  let pollTimer = null;
  let failures = 0;
  const poll = async () => {
    try {
      const [devices, metrics, auto] = await Promise.all([get('/api/devices'), get('/api/metrics'), get('/api/auto_toggle')]);
      onSnapshot({ ts_ms: Date.now(), devices: devices.devices, metrics: metrics.metrics, auto: auto.auto });
      onState('polling');
    } catch {
      onState('offline');
    }
  };
  const source = new EventSource('/api/stream');
  source.addEventListener('snapshot', (event) => {
    failures = 0;
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    onState('live');
    onSnapshot(JSON.parse(event.data));
  });
  source.addEventListener('error', () => {
    failures += 1;
    onState('offline');
    if (failures >= 3 && !pollTimer) { poll(); pollTimer = setInterval(poll, 5000); }
  });
  return source;
}
