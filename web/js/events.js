// The event log, newest first.
import { get } from './api.js';
import { time } from './format.js';

export async function refreshEvents(list) {
  const { events } = await get('/api/events');
  const fragment = document.createDocumentFragment();
  for (const e of events) {
    const li = document.createElement('li');
    const level = document.createElement('span');
    level.className = `level ${e.level}`;
    level.textContent = e.level;
    const when = document.createElement('span');
    when.className = 'muted';
    when.textContent = ` ${time(e.ts_ms)} `;
    const message = document.createElement('span');
    message.textContent = e.message;
    li.append(level, when, message);
    fragment.appendChild(li);
  }
  list.replaceChildren(fragment);
}
