// Number formatting for people.
export function rate(bitsPerSecond) {
  const v = Number(bitsPerSecond) || 0;
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} Gbit/s`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} Mbit/s`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} kbit/s`;
  return `${v.toFixed(0)} bit/s`;
}

export function limit(bitsPerSecond) {
  return bitsPerSecond ? rate(bitsPerSecond) : 'unlimited';
}

export function time(ms) {
  return ms ? new Date(ms).toLocaleTimeString() : '';
}
