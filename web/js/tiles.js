// The metric tiles.
function set(id, text) { document.getElementById(id).textContent = text; }

export function renderTiles(metrics) {
  set('t-total', metrics.total_devices);
  set('t-active', metrics.active_devices);
  set('t-blocked', metrics.blocked_devices);
  set('t-throughput', `${Number(metrics.throughput_mbps).toFixed(2)} Mbit/s`);
  set('t-delay', metrics.delay_ms == null ? 'n/a' : `${Number(metrics.delay_ms).toFixed(1)} ms`);
  set('t-loss', metrics.packet_loss_percent == null ? 'n/a' : `${Number(metrics.packet_loss_percent).toFixed(1)} %`);
  set('t-congestion', `${Number(metrics.congestion_percent).toFixed(0)} %`);
}
