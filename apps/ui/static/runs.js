// The runs page: the list of run directories, or (?run=NAME) one run: a benchmark's progress and its
// per-task table so far, and its episodes, each linking to its live viewer page. Polled while anything runs.
"use strict";

const run = new URLSearchParams(location.search).get("run");
const percent = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);

function cell(row, content, cls) {
  return row.appendChild(make("td", {className: cls || ""}, content instanceof Node ? content : String(content)));
}

function badge(status) { return make("span", {className: `badge ${status}`, textContent: status}); }

function link(href, text) { return make("a", {href, textContent: text}); }

async function get(path) {
  const response = await fetch(path, {cache: "no-store"});
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || response.statusText);
  return response.json();
}

async function showList() {
  const runs = await get("/api/runs");
  const body = $("runs").tBodies[0];
  body.replaceChildren();
  for (const r of runs) {
    const row = body.insertRow();
    row.dataset.run = r.path;
    cell(row, link(`/runs?run=${encodeURIComponent(r.path)}`, r.path));
    cell(row, r.kind);
    cell(row, badge(r.status));
    cell(row, r.kind === "bench" ? `${r.done} of ${r.planned ?? "?"} episodes` : `${r.finished} of ${r.episodes} ended`);
    cell(row, r.kind === "bench" ? percent(r.success) : "", "num");
  }
  $("empty").hidden = runs.length > 0;
  return runs.some((r) => r.status === "running");
}

async function showRun() {
  const r = await get(`/api/runs/${run.split("/").map(encodeURIComponent).join("/")}`);
  $("run-name").textContent = r.path;
  $("run-status").replaceWith(Object.assign(badge(r.status), {id: "run-status"}));
  $("index-link").href = `/runs/${r.path}/index.html`;
  $("bench").hidden = r.per_task === undefined;
  if (r.per_task !== undefined) {
    $("progress-text").textContent = `${r.done} of ${r.planned ?? "?"} episodes done, ` +
      `${percent(r.success)} of them succeeded (policy ${r.policy}).`;
    $("progress").value = r.planned ? r.done / r.planned : 0;
    const body = $("per-task").tBodies[0];
    body.replaceChildren();
    for (const [task, t] of Object.entries(r.per_task)) {
      const row = body.insertRow();
      cell(row, task);
      cell(row, t.episodes, "num");
      cell(row, percent(t.success), "num");
      cell(row, t.mean_reward.toFixed(2), "num");
      cell(row, t.mean_steps.toFixed(1), "num");
      cell(row, t.errors, "num");
    }
  }
  const list = $("episodes");
  list.replaceChildren();
  for (const ep of r.episodes_list) {
    const li = document.createElement("li");
    li.append(link(`/runs/${ep.path}/view.html`, ep.name), " ", badge(ep.status));
    list.append(li);
  }
  return r.status === "running";
}

async function refresh() {
  let again = true;
  try {
    again = run ? await showRun() : await showList();
  } catch (e) {
    document.querySelector("main").prepend(Object.assign(document.createElement("p"),
                                                        {className: "error", textContent: e.message}));
    return;
  }
  setTimeout(refresh, again ? 1000 : 5000);
}

$("list").hidden = Boolean(run);
$("detail").hidden = !run;
refresh();
