// Plotly charts: live usage of the busiest devices, download/upload stacked
// per device, and one device's history. Redrawn at most once a second.
const LAYOUT = {
  paper_bgcolor: 'rgba(0,0,0,0)', plot_bgcolor: 'rgba(0,0,0,0)', font: { color: '#e6edf3', size: 11 },
  margin: { l: 50, r: 10, t: 10, b: 40 }, legend: { orientation: 'h' }, xaxis: { gridcolor: '#263240' },
  yaxis: { gridcolor: '#263240', rangemode: 'tozero' },
};
const TOP = 8;
const POINTS = 120;

const plotly = () => window.Plotly;

export class Charts {
  constructor() {
    this.series = new Map();  // ip -> [{t, mbps}]
    this.lastDraw = 0;
  }

  update(snapshot) {
    const t = new Date(snapshot.ts_ms);
    for (const d of snapshot.devices) {
      const list = this.series.get(d.ip) || [];
      list.push({ t, mbps: (d.down_bits_per_sec + d.up_bits_per_sec) / 1e6 });
      if (list.length > POINTS) list.shift();
      this.series.set(d.ip, list);
    }
    const known = new Set(snapshot.devices.map((d) => d.ip));
    for (const ip of this.series.keys()) if (!known.has(ip)) this.series.delete(ip);
    if (!plotly() || Date.now() - this.lastDraw < 1000) return;
    this.lastDraw = Date.now();
    const top = [...snapshot.devices]
      .sort((a, b) => (b.down_bits_per_sec + b.up_bits_per_sec) - (a.down_bits_per_sec + a.up_bits_per_sec))
      .slice(0, TOP);
    const live = top.map((d) => {
      const s = this.series.get(d.ip) || [];
      return { x: s.map((p) => p.t), y: s.map((p) => p.mbps), name: d.hostname || d.ip, type: 'scatter', mode: 'lines' };
    });
    plotly().react('live-chart', live, { ...LAYOUT, yaxis: { ...LAYOUT.yaxis, title: 'Mbit/s' } }, { displayModeBar: false });
    const names = top.map((d) => d.hostname || d.ip);
    plotly().react('stack-chart', [
      { x: names, y: top.map((d) => d.down_bits_per_sec / 1e6), name: 'download', type: 'bar' },
      { x: names, y: top.map((d) => d.up_bits_per_sec / 1e6), name: 'upload', type: 'bar' },
      { x: names, y: top.map((d) => d.down_limit_bits_per_sec / 1e6), name: 'limit', type: 'scatter', mode: 'markers',
        marker: { symbol: 'line-ew-open', size: 18 } },
    ], { ...LAYOUT, barmode: 'stack', xaxis: { ...LAYOUT.xaxis, type: 'category' }, yaxis: { ...LAYOUT.yaxis, title: 'Mbit/s' } },
    { displayModeBar: false });
  }

  history(ip, points) {
    if (!plotly()) return;
    const x = points.map((p) => new Date(p.ts_ms));
    plotly().react('history-chart', [
      { x, y: points.map((p) => p.bytes_rx), name: `${ip} download (bytes)`, type: 'bar' },
      { x, y: points.map((p) => p.bytes_tx), name: `${ip} upload (bytes)`, type: 'bar' },
    ], { ...LAYOUT, barmode: 'stack' }, { displayModeBar: false });
  }
}
