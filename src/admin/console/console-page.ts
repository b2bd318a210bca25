/**
 * The operator console's HTML and CSS (the script is `console-app.ts`, compiled by `npm run build`
 * into a browser script next to this file). No inline script or style: the page's CSP allows only
 * files from the gateway itself.
 */

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wxgate console</title>
<link rel="stylesheet" href="/admin/console/console.css">
<script src="/admin/console/console.js" defer></script>
</head>
<body>
<header>
  <h1>wxgate <span>operator console</span></h1>
  <button id="sign-out" type="button" hidden>Sign out</button>
</header>
<p id="message" role="status" hidden></p>
<main>
  <section id="sign-in">
    <form id="sign-in-form" autocomplete="off">
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" required spellcheck="false">
      <button type="submit">Sign in</button>
      <p class="hint">The token is kept in this tab only (sessionStorage) and sent as <code>Authorization: Bearer</code> to the admin API.</p>
    </form>
  </section>
  <section id="overview" hidden>
    <div class="toolbar">
      <input id="filter" type="search" placeholder="Filter by appid or name" spellcheck="false">
      <button id="refresh" type="button">Refresh</button>
      <span id="updated" class="muted"></span>
    </div>
    <table id="tenants">
      <thead>
        <tr>
          <th>Tenant</th><th>Status</th><th>Token age</th><th>Last token error</th>
          <th class="num">Pushes 1h<br><small>accepted / rejected</small></th>
          <th class="num">Webhook<br><small>backlog</small></th><th class="num">Oldest<br><small>pending</small></th>
          <th class="num">Dead<br><small>letters</small></th><th class="num">Rate-limited<br><small>1h</small></th><th>Actions</th>
        </tr>
      </thead>
      <tbody></tbody>
    </table>
    <p id="empty" class="muted" hidden>No tenants.</p>
    <button id="more" type="button" hidden>More tenants</button>
  </section>
  <section id="detail" hidden>
    <button id="back" type="button">&larr; All tenants</button>
    <h2 id="detail-title"></h2>
    <div class="cards">
      <div class="card">
        <h3>Tenant</h3>
        <div id="detail-actions" class="actions"></div>
        <pre id="detail-tenant"></pre>
      </div>
      <div class="card">
        <h3>Service keys</h3>
        <ul id="keys"></ul>
        <form id="key-form" autocomplete="off">
          <input id="key-name" placeholder="Key name (e.g. backend)" required maxlength="64" spellcheck="false">
          <button type="submit">Create key</button>
        </form>
        <div id="new-secret" hidden>
          <p><strong>New key secret, shown once.</strong> Copy it now:</p>
          <code id="new-secret-value"></code>
        </div>
      </div>
      <div class="card">
        <h3>Webhook</h3>
        <p id="webhook-status"></p>
        <button id="redeliver-all" type="button">Redeliver all dead letters</button>
        <ul id="dead"></ul>
      </div>
      <div class="card">
        <h3>Recent changes</h3>
        <ul id="audit"></ul>
      </div>
    </div>
  </section>
</main>
</body>
</html>
`;

export const CONSOLE_CSS = `
:root { --fg: #1d2330; --muted: #6b7383; --line: #e3e6ec; --bg: #f6f7f9; --ok: #1a7f37; --bad: #c62828; --warn: #b26a00; --accent: #07c160; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; justify-content: space-between; padding: 12px 24px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; } h1 span { color: var(--muted); font-weight: 400; }
h2 { font-size: 18px; margin: 12px 0; } h3 { font-size: 14px; margin: 0 0 8px; }
main { padding: 16px 24px; }
button { font: inherit; padding: 4px 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; }
button:hover { border-color: var(--accent); }
button.danger { color: var(--bad); }
input { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; }
#sign-in form { max-width: 420px; margin: 48px auto; padding: 24px; background: #fff; border: 1px solid var(--line); border-radius: 10px; display: grid; gap: 10px; }
.hint, .muted { color: var(--muted); font-size: 12px; }
#message { margin: 0; padding: 8px 24px; background: #fff4e5; color: var(--warn); border-bottom: 1px solid var(--line); }
#message.error { background: #fdecea; color: var(--bad); }
.toolbar { display: flex; gap: 8px; align-items: center; margin-bottom: 12px; } .toolbar input { min-width: 280px; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
th, td { padding: 7px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; } th small { font-weight: 400; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td .appid { font-family: ui-monospace, Menlo, monospace; font-size: 12px; color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; }
.badge.active { background: #e6f4ea; color: var(--ok); } .badge.disabled { background: #fdecea; color: var(--bad); }
.error-text { color: var(--bad); font-size: 12px; } .hot { color: var(--bad); font-weight: 600; }
.actions { display: flex; gap: 6px; flex-wrap: wrap; } td .actions { flex-wrap: nowrap; }
td.error-text { max-width: 300px; }
#more { margin-top: 10px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 14px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px; }
.card ul { list-style: none; padding: 0; margin: 0 0 10px; } .card li { padding: 5px 0; border-bottom: 1px solid var(--line); display: flex; justify-content: space-between; gap: 8px; }
pre { background: var(--bg); padding: 10px; border-radius: 6px; overflow: auto; font-size: 12px; max-height: 320px; }
#new-secret { margin-top: 10px; padding: 10px; background: #e6f4ea; border-radius: 6px; } #new-secret code { word-break: break-all; font-size: 13px; }
#key-form { display: flex; gap: 6px; }
`;
