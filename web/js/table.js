// The device table: rows keyed by IP and updated in place, filtered and
// paged so a thousand devices stay quick. All device text goes in through
// textContent: hostnames are untrusted. A device's `priority` is the
// original API's number (0 Blocked, 1 High, 2 Normal, 3 Low); its name is
// `priority_name`.
import * as fmt from './format.js';

const PAGE_SIZE = 100;
const BLOCKED = 0;

export class DeviceTable {
  constructor(tbody, { onAction }) {
    this.tbody = tbody;
    this.onAction = onAction;
    this.rows = new Map();
    this.devices = [];
    this.filter = '';
    this.page = 0;
  }

  setFilter(text) { this.filter = text.trim().toLowerCase(); this.page = 0; this.render(); }
  turnPage(delta) { this.page = Math.max(0, Math.min(this.pageCount() - 1, this.page + delta)); this.render(); }
  pageCount() { return Math.max(1, Math.ceil(this.visible().length / PAGE_SIZE)); }

  update(devices) { this.devices = devices; this.render(); }

  visible() {
    if (!this.filter) return this.devices;
    return this.devices.filter((d) =>
      [d.ip, d.hostname, d.vendor, d.mac, d.priority_name].some((v) => String(v || '').toLowerCase().includes(this.filter)));
  }

  render() {
    const shown = this.visible();
    const page = shown.slice(this.page * PAGE_SIZE, (this.page + 1) * PAGE_SIZE);
    const wanted = new Set(page.map((d) => d.ip));
    for (const [ip, row] of this.rows) {
      if (!wanted.has(ip)) { row.tr.remove(); this.rows.delete(ip); }
    }
    const fragment = document.createDocumentFragment();
    page.forEach((d) => {
      let row = this.rows.get(d.ip);
      if (!row) { row = this.createRow(d.ip); this.rows.set(d.ip, row); }
      this.fill(row, d);
      fragment.appendChild(row.tr);  // re-appending keeps the order of `page`
    });
    this.tbody.appendChild(fragment);
    document.getElementById('device-count').textContent = `${shown.length} of ${this.devices.length} devices`;
    document.getElementById('page').textContent = `page ${this.page + 1} / ${this.pageCount()}`;
  }

  createRow(ip) {
    const tr = document.createElement('tr');
    tr.dataset.ip = ip;
    const cell = (cls) => { const td = document.createElement('td'); if (cls) td.className = cls; tr.appendChild(td); return td; };
    const row = { tr, ip: cell('ip'), mac: cell(), host: cell('host'), vendor: cell(), priority: cell('priority'),
                  down: cell(), up: cell(), actions: cell('actions') };
    row.ip.textContent = ip;
    const button = (label, action, cls) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.dataset.action = action;
      if (cls) b.className = cls;
      b.addEventListener('click', () => this.onAction(action, ip));
      row.actions.appendChild(b);
      return b;
    };
    row.buttons = {
      High: button('High', 'High'), Normal: button('Normal', 'Normal'), Low: button('Low', 'Low'),
      Auto: button('Auto', 'auto'), History: button('History', 'history'),
      Block: button('Block', 'block', 'danger'), Unblock: button('Unblock', 'unblock'),
    };
    return row;
  }

  fill(row, d) {
    row.mac.textContent = d.mac || '';
    row.host.textContent = d.hostname || '';
    row.host.title = d.hostname || '';
    row.vendor.textContent = d.vendor || '';
    row.priority.replaceChildren();
    const badge = document.createElement('span');
    badge.className = `badge ${d.priority_name}`;
    badge.textContent = d.priority_name;
    row.priority.appendChild(badge);
    if (d.manual) row.priority.appendChild(tag('manual', 'set by an admin; the allocator keeps off until Auto'));
    if (d.pending) {
      const left = d.pending.needed - d.pending.ticks;
      row.priority.appendChild(tag(`→ ${d.pending.priority_name} in ${left} tick${left === 1 ? '' : 's'}`,
        'a demotion waiting for hysteresis', 'pending'));
    }
    fillRate(row.down, d.down_bits_per_sec, d.down_limit_bits_per_sec);
    fillRate(row.up, d.up_bits_per_sec, d.up_limit_bits_per_sec);
    const blocked = d.priority === BLOCKED;
    row.buttons.Block.hidden = blocked;
    row.buttons.Unblock.hidden = !blocked;
    row.buttons.Auto.hidden = !d.manual;
    for (const p of ['High', 'Normal', 'Low']) row.buttons[p].disabled = d.manual && d.priority_name === p;
  }
}

function tag(text, title, cls = '') {
  const span = document.createElement('span');
  span.className = `tag ${cls}`;
  span.textContent = text;
  span.title = title;
  return span;
}

// Current rate against the enforced limit, as text and a small bar.
function fillRate(td, rate, limit) {
  td.replaceChildren();
  const box = document.createElement('div');
  box.className = 'rate';
  const text = document.createElement('span');
  text.textContent = `${fmt.rate(rate)} / ${fmt.limit(limit)}`;
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('span');
  const share = limit ? rate / limit : 0;
  fill.style.width = `${Math.min(100, share * 100).toFixed(1)}%`;
  if (share > 0.9) fill.className = 'over';
  bar.appendChild(fill);
  box.append(text, bar);
  td.appendChild(box);
}
