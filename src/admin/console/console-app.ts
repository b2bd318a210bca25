/// <reference lib="dom" />
/**
 * The operator console in the browser: a plain script without imports (tsc's CommonJS output only
 * marks `exports`, which the route provides), served at /admin/console/console.js. Everything it shows and does goes through
 * the admin API with the operator's token as `Authorization: Bearer`; the token lives in this tab's
 * sessionStorage only. The DOM is built with textContent, never innerHTML, so no tenant field can
 * become markup.
 */
(() => {
  const TOKEN_KEY = 'wxgate.adminToken';
  const REFRESH_MS = 15_000;

  interface ApiError {
    status: number;
    code: string;
    message: string;
  }
  interface OverviewRow {
    appid: string;
    name: string;
    status: 'active' | 'disabled';
    token: { ageS: number | null; lastError: { at: string; code: string; message: string } | null };
    pushes: { accepted1h: number; rejected1h: number };
    webhook: { backlog: number; oldestPendingAgeS: number | null; dead: number };
    rateLimited1h: number;
  }
  interface KeyView {
    id: string;
    name: string;
    createdAt?: string;
    revokedAt?: string | null;
  }
  interface DeadView {
    id: string;
    attempts?: number;
    lastError?: string;
    deadAt?: string;
  }

  const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
    const el = document.getElementById(id);
    if (!el) throw new Error(`#${id} missing`);
    return el as T;
  };

  function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { text?: string; cls?: string; attrs?: Record<string, string> } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
    const e = document.createElement(tag);
    if (props.text !== undefined) e.textContent = props.text;
    if (props.cls) e.className = props.cls;
    for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
    for (const c of children) e.appendChild(c);
    return e;
  }

  function button(text: string, action: string, onClick: () => void, cls?: string): HTMLButtonElement {
    const b = el('button', { text, attrs: { type: 'button', 'data-action': action }, ...(cls ? { cls } : {}) });
    b.addEventListener('click', () => {
      b.disabled = true;
      Promise.resolve()
        .then(onClick)
        .finally(() => (b.disabled = false));
    });
    return b;
  }

  // ---- the admin API ---------------------------------------------------------------------------

  const token = (): string | null => sessionStorage.getItem(TOKEN_KEY);

  class ApiFailure extends Error {
    constructor(readonly e: ApiError) {
      super(`${e.code}: ${e.message}`);
    }
  }

  async function api<T>(method: string, path: string, body?: unknown, bearer = token()): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), credentials: 'omit', cache: 'no-store' });
    } catch {
      throw new ApiFailure({ status: 0, code: 'NETWORK', message: 'the gateway did not answer' });
    }
    const data = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (!res.ok) throw new ApiFailure({ status: res.status, code: data?.error?.code ?? `HTTP_${res.status}`, message: data?.error?.message ?? res.statusText });
    return data as T;
  }

  const enc = encodeURIComponent;

  // ---- messages and sign-in --------------------------------------------------------------------

  function say(text: string, kind: 'info' | 'error' = 'info'): void {
    const m = $('message');
    m.textContent = text;
    m.className = kind === 'error' ? 'error' : '';
    m.hidden = text === '';
  }

  function fail(err: unknown): void {
    if (err instanceof ApiFailure && (err.e.status === 401 || err.e.status === 403)) {
      signOut(`Signed out: the admin API refused the token (${err.e.code}).`);
      return;
    }
    say(err instanceof ApiFailure ? `${err.e.code}: ${err.e.message}` : String(err), 'error');
  }

  let refreshTimer: number | undefined;

  function show(view: 'sign-in' | 'overview' | 'detail'): void {
    $('sign-in').hidden = view !== 'sign-in';
    $('overview').hidden = view !== 'overview';
    $('detail').hidden = view !== 'detail';
    $('sign-out').hidden = view === 'sign-in';
  }

  function signOut(reason = ''): void {
    sessionStorage.removeItem(TOKEN_KEY);
    window.clearInterval(refreshTimer);
    refreshTimer = undefined;
    show('sign-in');
    say(reason, reason ? 'error' : 'info');
    $<HTMLInputElement>('token').focus();
  }

  async function signIn(candidate: string): Promise<void> {
    try {
      // Checks the token against the admin API itself before keeping it.
      await api('GET', '/admin/overview?limit=1', undefined, candidate);
    } catch (err) {
      if (err instanceof ApiFailure && (err.e.status === 401 || err.e.status === 403)) {
        say(`Token refused (${err.e.code}).`, 'error');
        return;
      }
      fail(err);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, candidate);
    $<HTMLInputElement>('token').value = '';
    say('');
    await openOverview();
  }

  // ---- the overview ----------------------------------------------------------------------------

  let cursor: string | null = null;

  function age(s: number | null): string {
    if (s === null) return '–';
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m`;
    if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86_400)}d`;
  }

  const num = (n: number, hot = false) => el('td', { text: String(n), cls: hot && n > 0 ? 'num hot' : 'num' });

  function row(t: OverviewRow): HTMLTableRowElement {
    const tenant = el('td', {}, el('div', { text: t.name }), el('div', { text: t.appid, cls: 'appid' }));
    const status = el('td', {}, el('span', { text: t.status, cls: `badge ${t.status}`, attrs: { 'data-field': 'status' } }));
    const err = t.token.lastError;
    const tokenError = el('td', err ? { text: `${err.code}: ${err.message}`, cls: 'error-text', attrs: { title: err.at } } : { text: '–', cls: 'muted' });
    const actions = el(
      'td',
      {},
      el(
        'div',
        { cls: 'actions' },
        t.status === 'active' ? button('Disable', 'disable', () => setStatus(t.appid, 'disable'), 'danger') : button('Enable', 'enable', () => setStatus(t.appid, 'enable')),
        ...(t.webhook.dead > 0 ? [button('Redeliver', 'redeliver', () => redeliver(t.appid))] : []),
        button('Details', 'details', () => openDetail(t.appid)),
      ),
    );
    return el(
      'tr',
      { attrs: { 'data-appid': t.appid } },
      tenant,
      status,
      el('td', { text: age(t.token.ageS) }),
      tokenError,
      el('td', { text: `${t.pushes.accepted1h} / ${t.pushes.rejected1h}`, cls: t.pushes.rejected1h > 0 ? 'num hot' : 'num', attrs: { 'data-field': 'pushes' } }),
      num(t.webhook.backlog),
      el('td', { text: age(t.webhook.oldestPendingAgeS), cls: 'num' }),
      el('td', { text: String(t.webhook.dead), cls: t.webhook.dead > 0 ? 'num hot' : 'num', attrs: { 'data-field': 'dead' } }),
      el('td', { text: String(t.rateLimited1h), cls: t.rateLimited1h > 0 ? 'num hot' : 'num', attrs: { 'data-field': 'rateLimited' } }),
      actions,
    );
  }

  async function loadOverview(append = false): Promise<void> {
    const q = $<HTMLInputElement>('filter').value.trim();
    const params = new URLSearchParams({ limit: '50' });
    if (q) params.set('q', q);
    if (append && cursor) params.set('cursor', cursor);
    try {
      const page = await api<{ tenants: OverviewRow[]; nextCursor: string | null }>('GET', `/admin/overview?${params.toString()}`);
      const body = $('tenants').querySelector('tbody') as HTMLTableSectionElement;
      if (!append) body.replaceChildren();
      for (const t of page.tenants) body.appendChild(row(t));
      cursor = page.nextCursor;
      $('more').hidden = cursor === null;
      $('empty').hidden = body.children.length > 0;
      $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      fail(err);
    }
  }

  async function openOverview(): Promise<void> {
    show('overview');
    await loadOverview();
    window.clearInterval(refreshTimer);
    // A refresh while the operator pages through would drop the later pages: only page one refreshes.
    refreshTimer = window.setInterval(() => {
      if (!$('overview').hidden && cursor === null) void loadOverview();
    }, REFRESH_MS);
  }

  async function setStatus(appid: string, action: 'disable' | 'enable'): Promise<void> {
    try {
      await api('POST', `/admin/tenants/${enc(appid)}/${action}`);
      say(`${appid} ${action}d.`);
    } catch (err) {
      fail(err);
    }
    if (!$('detail').hidden) await openDetail(appid);
    else await loadOverview();
  }

  async function redeliver(appid: string, ids?: string[]): Promise<void> {
    try {
      const r = await api<{ redelivered: number }>('POST', `/admin/tenants/${enc(appid)}/webhook/redeliver`, ids ? { ids } : {});
      say(`${r.redelivered} dead letter(s) of ${appid} queued for delivery again.`);
    } catch (err) {
      fail(err);
    }
    if (!$('detail').hidden) await openDetail(appid);
    else await loadOverview();
  }

  // ---- the detail view -------------------------------------------------------------------------

  let detailAppid = '';

  async function openDetail(appid: string): Promise<void> {
    detailAppid = appid;
    show('detail');
    // A new key's secret is shown once: gone from the page as soon as the view changes.
    $('new-secret').hidden = true;
    $('new-secret-value').textContent = '';
    $('detail-title').textContent = appid;
    const [tenant, keys, webhook, dead, audit] = await Promise.allSettled([
      api<{ tenant: { name?: string; status?: string } & Record<string, unknown> }>('GET', `/admin/tenants/${enc(appid)}`),
      api<{ keys: KeyView[] }>('GET', `/admin/tenants/${enc(appid)}/keys`),
      api<{ webhook: Record<string, unknown> }>('GET', `/admin/tenants/${enc(appid)}/webhook`),
      api<{ dead: DeadView[] }>('GET', `/admin/tenants/${enc(appid)}/webhook/dead?limit=20`),
      api<{ entries: { at?: string; actor?: string; action?: string }[] }>('GET', `/admin/audit?appid=${enc(appid)}&limit=10`),
    ]);
    if (detailAppid !== appid) return;
    const firstFailure = [tenant, keys, webhook, dead, audit].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (firstFailure) fail(firstFailure.reason);

    const actions = $('detail-actions');
    actions.replaceChildren();
    if (tenant.status === 'fulfilled') {
      const t = tenant.value.tenant;
      $('detail-title').textContent = `${t.name ?? appid} (${appid})`;
      actions.appendChild(t.status === 'disabled' ? button('Enable', 'enable', () => setStatus(appid, 'enable')) : button('Disable', 'disable', () => setStatus(appid, 'disable'), 'danger'));
      actions.appendChild(el('span', { text: String(t.status ?? ''), cls: `badge ${String(t.status ?? '')}`, attrs: { 'data-field': 'status' } }));
      $('detail-tenant').textContent = JSON.stringify(t, null, 2);
    }

    const keyList = $('keys');
    keyList.replaceChildren();
    if (keys.status === 'fulfilled') {
      const live = keys.value.keys.filter((k) => !k.revokedAt);
      if (live.length === 0) keyList.appendChild(el('li', { text: 'No service keys.', cls: 'muted' }));
      for (const k of live) {
        keyList.appendChild(
          el(
            'li',
            { attrs: { 'data-key-id': k.id } },
            el('span', { text: `${k.name} · ${k.id}${k.createdAt ? ` · ${k.createdAt.slice(0, 10)}` : ''}` }),
            button('Revoke', 'revoke', () => revokeKey(appid, k.id), 'danger'),
          ),
        );
      }
    }

    if (webhook.status === 'fulfilled') {
      const w = webhook.value.webhook;
      $('webhook-status').textContent = Object.entries(w)
        .map(([k, v]) => `${k}: ${v === null ? '–' : String(v)}`)
        .join(' · ');
    }
    const deadList = $('dead');
    deadList.replaceChildren();
    if (dead.status === 'fulfilled') {
      $<HTMLButtonElement>('redeliver-all').disabled = dead.value.dead.length === 0;
      for (const d of dead.value.dead) {
        deadList.appendChild(
          el(
            'li',
            { attrs: { 'data-dead-id': d.id } },
            el('span', { text: `${d.deadAt ?? d.id} · ${d.attempts ?? '?'} attempts · ${d.lastError ?? ''}` }),
            button('Redeliver', 'redeliver-one', () => redeliver(appid, [d.id])),
          ),
        );
      }
    }

    const auditList = $('audit');
    auditList.replaceChildren();
    if (audit.status === 'fulfilled') {
      if (audit.value.entries.length === 0) auditList.appendChild(el('li', { text: 'No recorded changes.', cls: 'muted' }));
      for (const e of audit.value.entries) auditList.appendChild(el('li', {}, el('span', { text: `${e.at ?? ''} ${e.action ?? ''}` }), el('span', { text: e.actor ?? '', cls: 'muted' })));
    }
  }

  async function createKey(appid: string, name: string): Promise<void> {
    try {
      const r = await api<{ key: KeyView; secret: string }>('POST', `/admin/tenants/${enc(appid)}/keys`, { name });
      await openDetail(appid);
      // Shown once: the API never returns the secret again.
      $('new-secret-value').textContent = r.secret;
      $('new-secret').hidden = false;
      say(`Key ${r.key.name} created.`);
    } catch (err) {
      fail(err);
    }
  }

  async function revokeKey(appid: string, keyId: string): Promise<void> {
    try {
      await api('DELETE', `/admin/tenants/${enc(appid)}/keys/${enc(keyId)}`);
      say(`Key ${keyId} revoked.`);
    } catch (err) {
      fail(err);
    }
    await openDetail(appid);
  }

  // ---- wiring ----------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('sign-in-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = $<HTMLInputElement>('token').value.trim();
      if (v) void signIn(v);
    });
    $('sign-out').addEventListener('click', () => signOut());
    $('refresh').addEventListener('click', () => void loadOverview());
    $('more').addEventListener('click', () => void loadOverview(true));
    let filterTimer: number | undefined;
    $('filter').addEventListener('input', () => {
      window.clearTimeout(filterTimer);
      filterTimer = window.setTimeout(() => void loadOverview(), 250);
    });
    $('back').addEventListener('click', () => {
      say('');
      void openOverview();
    });
    $('key-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = $<HTMLInputElement>('key-name').value.trim();
      if (!name) return;
      $<HTMLInputElement>('key-name').value = '';
      void createKey(detailAppid, name);
    });
    $('redeliver-all').addEventListener('click', () => void redeliver(detailAppid));
    if (token()) void openOverview();
    else show('sign-in');
  });
})();
