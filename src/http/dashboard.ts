/**
 * The `/ui` dashboard: one HTML page with inline CSS and JS, embedded in the program (nothing is
 * read from disk, nothing is fetched from elsewhere). It polls `/health`, `/metrics` and
 * `/ui/tools` every second and shows upstream state, the tool catalog, sessions, and request and
 * error rates computed from the metrics counters.
 */

/** The page, served as is. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mcpstead</title>
<style>
  :root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --muted:#6b7385; --line:#e3e6ec; --ok:#1f9d55; --bad:#d64545; }
  @media (prefers-color-scheme: dark) { :root { --bg:#11141a; --card:#1a1f28; --ink:#e8ebf1; --muted:#98a0b3; --line:#2a303c; } }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--ink); }
  header { display:flex; align-items:center; gap:16px; padding:14px 24px; border-bottom:1px solid var(--line); background:var(--card); }
  header h1 { font-size:17px; margin:0; letter-spacing:.2px; }
  header .status { font-weight:600; padding:2px 10px; border-radius:999px; font-size:12px; color:#fff; }
  header .spacer { flex:1; }
  main { padding:20px 24px; display:grid; gap:20px; max-width:1200px; margin:0 auto; }
  .tiles { display:grid; grid-template-columns:repeat(auto-fit, minmax(160px, 1fr)); gap:12px; }
  .tile, .card, section { background:var(--card); border:1px solid var(--line); border-radius:10px; }
  .tile { padding:12px 14px; }
  .tile .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.5px; }
  .tile .value { font-size:24px; font-weight:600; margin-top:2px; font-variant-numeric:tabular-nums; }
  section { padding:14px 16px; }
  section h2 { font-size:14px; margin:0 0 10px; color:var(--muted); text-transform:uppercase; letter-spacing:.5px; }
  .upstreams { display:grid; grid-template-columns:repeat(auto-fill, minmax(260px, 1fr)); gap:10px; }
  .card { padding:10px 12px; border-left:4px solid var(--muted); }
  .card.up { border-left-color:var(--ok); } .card.down { border-left-color:var(--bad); }
  .card .name { font-weight:600; display:flex; align-items:center; gap:8px; }
  .dot { width:9px; height:9px; border-radius:50%; background:var(--muted); display:inline-block; }
  .up .dot { background:var(--ok); } .down .dot { background:var(--bad); }
  .meta { color:var(--muted); font-size:12px; margin-top:4px; }
  .error { color:var(--bad); font-size:12px; margin-top:6px; word-break:break-word; }
  input[type=search], input[type=password] { padding:6px 10px; border:1px solid var(--line); border-radius:6px; background:var(--bg); color:var(--ink); }
  input[type=search] { width:100%; margin-bottom:8px; }
  table { width:100%; border-collapse:collapse; }
  td { padding:6px 4px; border-top:1px solid var(--line); vertical-align:top; }
  td.tool { font-family:ui-monospace, Menlo, monospace; white-space:nowrap; }
  td.desc { color:var(--muted); }
  button { padding:6px 14px; border-radius:6px; border:1px solid var(--line); background:var(--ink); color:var(--card); cursor:pointer; font-weight:600; }
  #notice { color:var(--muted); font-size:12px; }
</style>
</head>
<body>
<header>
  <h1>mcpstead</h1>
  <span id="overall" class="status" style="background:var(--muted)">…</span>
  <span id="version" class="meta"></span>
  <span class="spacer"></span>
  <input id="token" type="password" placeholder="bearer token (if auth is on)" autocomplete="off">
  <button id="reload" type="button">Reload config</button>
  <span id="notice"></span>
</header>
<main>
  <div class="tiles">
    <div class="tile"><div class="label">Upstreams up</div><div class="value" id="up">–</div></div>
    <div class="tile"><div class="label">Sessions</div><div class="value" id="sessions">–</div></div>
    <div class="tile"><div class="label">Requests / s</div><div class="value" id="rate">–</div></div>
    <div class="tile"><div class="label">Errors / s</div><div class="value" id="errors">–</div></div>
    <div class="tile"><div class="label">Tools</div><div class="value" id="toolcount">–</div></div>
    <div class="tile"><div class="label">Uptime</div><div class="value" id="uptime">–</div></div>
  </div>
  <section><h2>Upstreams</h2><div id="upstreams" class="upstreams"></div></section>
  <section><h2>Tools</h2><input id="search" type="search" placeholder="Search tools by name or description">
    <table><tbody id="tools"></tbody></table><div id="toolnote" class="meta"></div></section>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const token = $("token");
  token.value = sessionStorage.getItem("mcpstead-token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("mcpstead-token", token.value));
  const auth = () => (token.value ? { authorization: "Bearer " + token.value } : {});
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  let tools = [];
  let last;

  const sum = (text, family, filter) => text.split("\\n")
    .filter((line) => line.startsWith(family + "{") && (!filter || line.includes(filter)))
    .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);

  const duration = (s) => s < 120 ? Math.round(s) + " s" : s < 7200 ? Math.round(s / 60) + " min" : (s / 3600).toFixed(1) + " h";

  function renderTools() {
    const query = $("search").value.trim().toLowerCase();
    const shown = tools.filter((t) => !query || t.name.toLowerCase().includes(query) || (t.description || "").toLowerCase().includes(query));
    $("tools").innerHTML = shown.map((t) => '<tr><td class="tool">' + esc(t.name) + '</td><td class="desc">' + esc(t.description || "") + "</td></tr>").join("");
    $("toolnote").textContent = shown.length + " of " + tools.length + " tools";
  }
  $("search").addEventListener("input", renderTools);

  async function refresh() {
    try {
      const health = await (await fetch("/health", { cache: "no-store" })).json();
      const overall = $("overall");
      overall.textContent = health.status;
      overall.style.background = health.status === "ok" ? "var(--ok)" : "var(--bad)";
      $("version").textContent = "v" + health.version;
      $("sessions").textContent = health.sessions;
      $("uptime").textContent = duration(health.uptime_seconds);
      $("up").textContent = health.servers.filter((s) => s.connected).length + " / " + health.servers.length;
      $("upstreams").innerHTML = health.servers.map((s) => {
        const cls = s.connected ? "up" : "down";
        return '<div class="card ' + cls + '" data-server="' + esc(s.name) + '" data-state="' + cls + '">' +
          '<div class="name"><span class="dot"></span>' + esc(s.name) + "</div>" +
          '<div class="meta">' + esc(s.state) + " · " + esc(s.transport || s.protocol) + " · " + s.tools_count + (s.tools_stale ? " tools (stale: from before it went down)" : " tools") + " · " + s.reconnects + " reconnects" +
          (s.last_seen_seconds_ago === null ? "" : " · seen " + duration(s.last_seen_seconds_ago) + " ago") + "</div>" +
          '<div class="meta">' + esc(s.url || s.command || "") + "</div>" +
          (s.last_error ? '<div class="error">' + esc(s.last_error) + "</div>" : "") + "</div>";
      }).join("") || '<div class="meta">No upstreams configured.</div>';
    } catch (error) {
      $("overall").textContent = "unreachable";
      $("overall").style.background = "var(--bad)";
    }
    try {
      const res = await fetch("/metrics", { cache: "no-store" });
      if (res.ok) {
        const text = await res.text();
        const now = { at: performance.now(), all: sum(text, "mcpstead_mcp_requests_total"), errors: sum(text, "mcpstead_mcp_requests_total", 'result="error"') };
        if (last) {
          const seconds = (now.at - last.at) / 1000;
          $("rate").textContent = ((now.all - last.all) / seconds).toFixed(1);
          $("errors").textContent = ((now.errors - last.errors) / seconds).toFixed(1);
        }
        last = now;
      } else {
        $("rate").textContent = "off";
        $("errors").textContent = "off";
      }
    } catch { /* shown as stale numbers until the next poll */ }
    try {
      const res = await fetch("/ui/tools", { headers: auth(), cache: "no-store" });
      if (res.ok) {
        tools = (await res.json()).tools;
        $("toolcount").textContent = tools.length;
        renderTools();
      } else if (res.status === 401) {
        $("toolnote").textContent = "Enter the bearer token to see the tool catalog.";
      }
    } catch { /* the next poll tries again */ }
  }

  $("reload").addEventListener("click", async () => {
    $("notice").textContent = "reloading…";
    const res = await fetch("/-/reload", { method: "POST", headers: { ...auth(), "content-type": "application/json" }, body: "{}" });
    if (res.ok) {
      const s = await res.json();
      $("notice").textContent = "reloaded: +" + s.added + " −" + s.removed + " ↻" + s.restarted + " ✎" + s.updated +
        (s.restart_required.length ? " (restart needed for " + s.restart_required.join(", ") + ")" : "");
    } else {
      $("notice").textContent = res.status === 401 ? "reload refused: wrong or missing token" : "reload refused: " + (await res.text());
    }
    refresh();
  });

  refresh();
  setInterval(refresh, 1000);
})();
</script>
</body>
</html>
`;
