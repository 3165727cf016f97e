// Usage history: the calls of the last 7 days with the API's filters
// (status included; the chart splits by status class instead), paged, as
// CSV, and a chart of calls per hour or day by status class from
// GET /admin/usage/summary, drawn with Chart.js (web/vendor/).

import { h, replace, time, download } from '../dom.js';
import { get, request } from '../api.js';
import { Pager, errorBox, field, loading, select, toISO } from '../ui.js';

const PAGE_SIZE = 50;
const CHART_JS = 'vendor/chart-4.6.1.umd.min.js';

/** Status classes and their colours (each at least 3:1 against white). */
const CLASSES = [
  ['2xx', 'Served (2xx)', '#15803d'],
  ['4xx', 'Refused (4xx)', '#b45309'],
  ['5xx', 'Failed (5xx)', '#b91c1c'],
];

/** The status filters offered: a class, or a status callers often meet (GET /admin/usage?status=). */
const STATUSES = [
  ['', 'All statuses'], ['2xx', 'Served (2xx)'], ['4xx', 'Refused (4xx)'], ['401', '401 Unauthorized'],
  ['403', '403 Forbidden'], ['429', '429 Too many requests'], ['5xx', 'Failed (5xx)'],
];

let chartLib;
/** loadChartJS adds Chart.js to the page the first time a chart is drawn. */
function loadChartJS() {
  chartLib ??= new Promise((resolve, reject) => {
    const s = h('script', { src: CHART_JS });
    s.addEventListener('load', () => resolve(window.Chart));
    s.addEventListener('error', () => { chartLib = undefined; reject(new Error('The chart library did not load.')); });
    document.head.append(s);
  });
  return chartLib;
}

export async function usageView(main, ctx) {
  ctx.title('Usage history');
  const heading = h('h1', {}, 'Usage history');
  replace(main, heading, loading());
  let services = [];
  try {
    services = (await get('admin/account')).services;
  } catch (err) {
    replace(main, heading, errorBox(err, () => usageView(main, ctx)));
    return;
  }
  if (!main.contains(heading)) return; // the person has moved on to another screen
  const filters = {};
  const pager = new Pager(() => loadRecords());
  const form = h('form', {
    class: 'card filters', 'aria-label': 'Usage filters',
    onsubmit: (ev) => { ev.preventDefault(); apply(); },
  },
  h('div', { class: 'row' },
    field('Service', select('service', [['', 'All services'], ...services.map((s) => [s, s])])),
    field('Token ID', h('input', { name: 'tokenId', autocomplete: 'off', spellcheck: 'false' })),
    field('User ID', h('input', { name: 'userId', autocomplete: 'off', spellcheck: 'false' })),
    field('Status', select('status', STATUSES)),
    field('From (UTC)', h('input', { name: 'from', type: 'datetime-local' })),
    field('To (UTC)', h('input', { name: 'to', type: 'datetime-local' })),
    field('Chart by', select('interval', [['hour', 'Hour'], ['day', 'Day']], 'hour'))),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
    h('button', { type: 'button', onclick: () => downloadCSV() }, 'Download CSV')));

  const chartStatus = h('div');
  const chartBox = h('div', { class: 'chart-box' });
  const chartSummary = h('p', { class: 'chart-summary' });
  const records = h('div');
  const csvStatus = h('p', { class: 'flash', role: 'status' });
  let chart;

  function read() {
    const e = form.elements;
    Object.assign(filters, {
      service: e.service.value, tokenId: e.tokenId.value.trim(), userId: e.userId.value.trim(), status: e.status.value,
      from: toISO(e.from.value), to: toISO(e.to.value),
    });
    return e.interval.value;
  }

  function apply() {
    const interval = read();
    pager.reset();
    loadRecords();
    loadChart(interval);
  }

  async function loadRecords() {
    replace(records, loading('Loading calls…'));
    try {
      const page = await get('admin/usage', { ...filters, limit: PAGE_SIZE, cursor: pager.cursor });
      pager.next = page.nextCursor;
      replace(records, page.items.length === 0
        ? h('p', { class: 'empty' }, 'No calls match these filters in the last 7 days.')
        : h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Calls table, scrolls sideways on narrow screens' },
          h('table', { class: 'usage' },
            h('thead', {}, h('tr', {}, ['Time', 'Status', 'Request', 'Service', 'Token ID', 'User ID', 'Latency', 'Source IP']
              .map((c) => h('th', { scope: 'col' }, c)))),
            h('tbody', {}, page.items.map((r) => h('tr', {},
              h('td', {}, time(r.time)),
              h('td', {}, h('span', { class: `status s${String(r.status)[0]}xx` }, String(r.status))),
              h('td', { class: 'request' }, h('code', {}, `${r.method} ${r.path}${r.query ? `?${r.query}` : ''}`)),
              h('td', {}, r.service), h('td', {}, h('code', {}, r.tokenId)),
              h('td', {}, r.userId ? h('code', {}, r.userId) : '—'),
              h('td', {}, `${r.latencyMs} ms`), h('td', {}, r.sourceIp)))))),
      pager.controls('Call'));
    } catch (err) {
      replace(records, errorBox(err, () => loadRecords()));
    }
  }

  async function downloadCSV() {
    replace(csvStatus, 'Preparing the CSV…');
    try {
      const csv = await request('GET', 'admin/usage', { query: { ...filters, limit: PAGE_SIZE, cursor: pager.cursor, format: 'csv' }, text: true });
      download(`usage-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}Z.csv`, csv, 'text/csv');
      replace(csvStatus, 'Downloaded the calls of this page as CSV.');
    } catch (err) {
      replace(csvStatus, `The CSV could not be made: ${err.message}`);
    }
  }

  async function loadChart(interval) {
    replace(chartStatus, loading('Loading the chart…'));
    try {
      const { service, tokenId, userId, from, to } = filters;
      const [Chart, summary] = await Promise.all([loadChartJS(), get('admin/usage/summary', { interval, service, tokenId, userId, from, to })]);
      const series = seriesOf(summary);
      const totals = CLASSES.map(([c]) => series.reduce((n, b) => n + b.counts[c], 0));
      replace(chartSummary, `${totals.reduce((a, b) => a + b, 0)} calls: ` +
        CLASSES.map(([, label], i) => `${totals[i]} ${label.toLowerCase()}`).join(', ') + '.');
      chart?.destroy();
      const canvas = h('canvas', { role: 'img', 'aria-label': `Calls per ${interval} by status class. ${chartSummary.textContent}` });
      replace(chartBox, canvas);
      chart = new Chart(canvas, {
        type: 'bar',
        data: {
          labels: series.map((b) => label(b.time, interval)),
          datasets: CLASSES.map(([c, name, color]) => ({ label: name, data: series.map((b) => b.counts[c]), backgroundColor: color })),
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          scales: { x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
          plugins: { legend: { position: 'bottom' } },
        },
      });
      replace(chartStatus);
    } catch (err) {
      replace(chartStatus, errorBox(err, () => loadChart(interval)));
    }
  }

  replace(main,
    heading,
    h('p', {}, 'Every call made with your tokens, served or refused, in the last 7 days (older calls are deleted). The chart counts calls per hour or day.'),
    form,
    h('section', { class: 'card', 'aria-labelledby': 'chart-title' }, h('h2', { id: 'chart-title' }, 'Calls by status'), chartStatus, chartBox, chartSummary),
    h('section', { 'aria-labelledby': 'calls-title' }, h('h2', { id: 'calls-title' }, 'Calls'), csvStatus, records));
  apply();
}

const STEP = { hour: 3600e3, day: 86400e3 };

/**
 * seriesOf reads the summary route's answer (docs/usage.md) into one bar
 * per interval from its from to its to, oldest first: the route lists only
 * intervals with calls, so the gaps are filled with zeros.
 */
function seriesOf(summary) {
  const step = STEP[summary.interval] ?? STEP.hour;
  const byTime = new Map((summary.items ?? []).map((b) => [Date.parse(b.time), b]));
  const out = [];
  for (let t = Date.parse(summary.from); t < Date.parse(summary.to); t += step) {
    const b = byTime.get(t);
    out.push({ time: new Date(t).toISOString(), counts: Object.fromEntries(CLASSES.map(([c]) => [c, Number(b?.[c] ?? 0)])) });
  }
  return out;
}

function label(iso, interval) {
  const d = new Date(iso);
  const day = d.toLocaleDateString('en-GB', { day: '2-digit', month: 'short', timeZone: 'UTC' });
  return interval === 'day' ? day : `${day} ${d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' })}`;
}
