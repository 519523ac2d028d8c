// Wires the dashboard together: live snapshots into tiles, table and
// charts; buttons into API calls; errors into a visible notice.
import * as api from './api.js';
import { Charts } from './charts.js';
import { refreshEvents } from './events.js';
import { connect } from './stream.js';
import { DeviceTable } from './table.js';
import { renderTiles } from './tiles.js';

const $ = (id) => document.getElementById(id);
const charts = new Charts();
let historyIp = null;

function notice(text, isError = false) {
  const box = $('notice');
  box.textContent = text;
  box.classList.toggle('hidden', !text);
  box.classList.toggle('error', isError);
  if (text && !isError) setTimeout(() => { if (box.textContent === text) notice(''); }, 4000);
}

function showTokenBar(show) { $('token-bar').classList.toggle('hidden', !show); }

async function act(promise, done) {
  try {
    const result = await promise;
    notice(done || result.message || 'done');
    refreshEvents($('events')).catch(() => {});
    return result;
  } catch (error) {
    if (error.status === 401) {
      showTokenBar(true);
      notice('This action needs the API token: paste it above (it is in the agent\'s token file).', true);
    } else {
      notice(`Failed: ${error.message}`, true);
    }
    return null;
  }
}

async function showHistory(ip) {
  historyIp = ip;
  $('history-ip').textContent = ip;
  const [span, resolution] = $('history-range').value.split(':');
  const to = Date.now();
  const from = to - Number(span);
  try {
    const { history } = await api.get(`/api/history?ip=${encodeURIComponent(ip)}&from=${from}&to=${to}&resolution=${resolution}`);
    charts.history(ip, history);
  } catch (error) {
    notice(`History of ${ip}: ${error.message}`, true);
  }
}

const table = new DeviceTable($('devices').querySelector('tbody'), {
  onAction: (action, ip) => {
    if (action === 'history') return showHistory(ip);
    if (action === 'block') return act(api.post('/api/block', { ip, reason: 'blocked from the dashboard' }), `${ip} blocked`);
    if (action === 'unblock') return act(api.post('/api/unblock', { ip }), `${ip} unblocked`);
    return act(api.post('/api/set_priority', { ip, priority: action }));
  },
});

function onSnapshot(snapshot) {
  renderTiles(snapshot.metrics);
  table.update(snapshot.devices);
  $('auto').checked = Boolean(snapshot.auto);
  charts.update(snapshot);
}

function onState(state) {
  const badge = $('connection');
  badge.className = `connection ${state}`;
  badge.textContent = { live: 'live', polling: 'polling every 5 s', offline: 'reconnecting…' }[state];
}

api.takeTokenFromFragment();
showTokenBar(!api.token());
$('token-save').addEventListener('click', () => {
  api.setToken($('token-input').value);
  $('token-input').value = '';
  showTokenBar(false);
  notice('Token saved for this tab.');
});
$('scan').addEventListener('click', () => act(api.post('/api/discover'), 'LAN scanned'));
$('auto').addEventListener('change', (event) => act(api.post('/api/auto_toggle', { auto: event.target.checked }),
  `Smart Auto Mode ${event.target.checked ? 'on' : 'off'}`));
$('filter').addEventListener('input', (event) => table.setFilter(event.target.value));
$('prev').addEventListener('click', () => table.turnPage(-1));
$('next').addEventListener('click', () => table.turnPage(1));
$('history-range').addEventListener('change', () => { if (historyIp) showHistory(historyIp); });

connect(onSnapshot, onState);
refreshEvents($('events')).catch(() => {});
setInterval(() => refreshEvents($('events')).catch(() => {}), 5000);
