// The assistant page: a fold over the server's message stream (/api/stream), and small JSON POSTs back.
// Every tab gets the same messages in the same order, so every tab shows the same state. Text from the
// server goes into the page as text (textContent), never as HTML.
"use strict";

let question = null;  // the open question: {qid, kind, text, options}
let state = "idle";

// -- talking to the server ---------------------------------------------------------------------------------
async function post(path, body) {
  const response = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                      body: JSON.stringify(body)});
  const data = await response.json().catch(() => ({}));
  notice(response.ok ? "" : data.error || `${response.status} ${response.statusText}`);
  return response.ok;
}

function notice(text) { $("notice").textContent = text; }

function answer(value) {
  if (question) post("/api/answer", {question: question.qid, answer: value});
}

// -- the stream --------------------------------------------------------------------------------------------
const handlers = {
  state(m) { state = m.state; showState(); },
  begin(m) {
    const li = item("you");
    li.append(labelled("You", m.instruction || `(the ${m.picks.task} task's own instruction)`));
    li.append(line("muted", `${m.picks.env} · ${m.picks.model}`));
  },
  note(m) { item("note").append(line("muted", m.text)); },
  error(m) { item("error").append(line("error", m.text)); },
  start(m) {
    const li = item("start");
    li.append(labelled("Task", m.instruction));
    if (m.run) li.append(anchor(m.run, "follow this run's page", "live-link"));
  },
  screen(m) { showScreen(m); },
  act(m) {
    const li = item("step");
    li.id = `step-${m.index}`;
    li.append(line("step-head", `Step ${m.index}`));
    for (const cue of m.feedback) li.append(line("feedback", `Told the model: ${cue}`));
    if (m.reflection) li.append(labelled("Reflection", m.reflection));
    li.append(labelled("Thought", m.thought || "–"));
    li.append(labelled("Action", m.actions.join(" | "), "code"));
  },
  step(m) {
    let li = $(`step-${m.index}`);
    if (!li) {  // a reply that did not parse has no act message
      li = item("step");
      li.id = `step-${m.index}`;
      li.append(line("step-head", `Step ${m.index}`));
      li.append(labelled("Reply", m.raw_output, "code"));
    }
    if (m.error) li.append(line("error", `Reply not understood: ${m.error}`));
    if (m.action_error) li.append(line("error", `Action failed: ${m.action_error}`));
  },
  question(m) { question = m; showQuestion(); },
  decided(m) {
    if (question && question.qid === m.qid) question = null;
    showQuestion();
    const said = {safety: `Safety check: ${m.answer === "approve" ? "approved" : "denied"}`,
                  call_user: `You answered: ${m.answer || "(nothing: the agent stops)"}`,
                  pause: `Paused: ${m.answer || "stop"}`,
                  "take over": "You handed the screen back" + (m.answer && m.answer !== "hand back" ? `: ${m.answer}` : "")};
    item("decision").append(line("decision", said[m.kind] || m.answer));
  },
  end(m) {
    const li = item("end");
    const why = m.error ? ` (${m.error})` : "";
    li.append(line(m.status === "finished" || m.success ? "ok" : "fail",
                   `Result: ${m.status}${why} after ${m.steps} steps, ${m.seconds.toFixed(1)} s.`));
    if (m.answer) li.append(labelled("Answer", m.answer));
    if (m.run) li.append(anchor(m.run, "open this run", "run-link"));
  },
};

function connect() {
  const source = new EventSource("/api/stream");  // reconnects by itself, from the last message it saw
  source.onmessage = (e) => {
    const m = JSON.parse(e.data);
    (handlers[m.type] || (() => {}))(m);
  };
  source.onerror = () => { $("state").textContent = "reconnecting"; };
  source.onopen = () => showState();
}

// -- drawing -----------------------------------------------------------------------------------------------
function item(kind) {
  const li = make("li", {className: kind});
  $("steps").append(li);
  li.scrollIntoView({block: "nearest"});
  return li;
}

function line(cls, text) { return make("div", {className: cls, textContent: text}); }

function anchor(href, text, cls) { return make("a", {href, textContent: text, className: cls, target: "_blank"}); }

function labelled(label, text, cls) {
  return make("div", {}, make("b", {textContent: `${label}: `}), make(cls === "code" ? "code" : "span", {textContent: text}));
}

const SVG = "http://www.w3.org/2000/svg";
function showScreen(m) {
  $("shot").src = m.src;
  $("shot-box").hidden = false;
  $("no-shot").hidden = true;
  const svg = $("marks");
  svg.setAttribute("viewBox", `0 0 ${m.width} ${m.height}`);
  svg.replaceChildren();
  const r = Math.max(5, Math.round(Math.min(m.width, m.height) / 40));
  for (const mark of m.marks) {
    let shape, x, y;
    if (mark.box) {
      const [x0, y0, x1, y1] = mark.box;
      shape = svgElement("rect", {x: x0, y: y0, width: x1 - x0, height: y1 - y0});
      [x, y] = [x1, y0];
    } else {
      [x, y] = mark.point;
      shape = svgElement("circle", {cx: x, cy: y, r});
      svg.append(svgElement("circle", {cx: x, cy: y, r: Math.max(1, r / 4), class: "dot"}));
    }
    shape.setAttribute("class", "mark");
    const label = svgElement("text", {x: x + r + 1, y: y - r});
    label.textContent = mark.label;
    svg.append(shape, label);
  }
}

function svgElement(name, attrs) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

function showQuestion() {
  const q = question;
  $("question").hidden = !q || q.kind === "pause";
  $("q-safety").hidden = !q || q.kind !== "safety";
  $("q-call").hidden = !q || q.kind !== "call_user";
  $("q-handback").hidden = !q || q.kind !== "take over";
  if (q) {
    $("q-title").textContent = {safety: "Safety check: the agent wants to do something risky",
                                call_user: "The agent asks for your help", "take over": "You have the screen"}[q.kind] || "";
    $("q-text").textContent = q.text;
  }
  showState();
}

function showState() {
  const paused = question && question.kind === "pause";
  const shown = paused ? "paused" : state;
  $("state").textContent = shown;
  $("state").dataset.state = shown;
  const working = state !== "idle";
  $("go").disabled = working;
  $("pause").disabled = !working || paused || state === "taken over" || state === "stopping";
  $("resume").disabled = !paused;
  $("takeover").disabled = !working || state === "taken over" || state === "stopping";
  $("stop").disabled = !working || state === "stopping";
}

// -- the person's side -------------------------------------------------------------------------------------
function showEnvFields() {
  const env = $("env").value;
  $("url-row").hidden = env !== "browser";
  $("task-row").hidden = env !== "miniwob";
}

$("env").addEventListener("change", showEnvFields);
$("ask").addEventListener("submit", async (e) => {
  e.preventDefault();
  const ok = await post("/api/instruction", {instruction: $("instruction").value, model: $("model").value,
                                             env: $("env").value, url: $("url").value, task: $("task").value});
  if (ok) $("instruction").value = "";
});
$("pause").addEventListener("click", () => post("/api/control", {action: "pause"}));
$("resume").addEventListener("click", () => answer("resume"));
$("takeover").addEventListener("click", () => {
  if (question && question.kind === "pause") answer("take over");
  else post("/api/control", {action: "take over"});
});
$("stop").addEventListener("click", () => post("/api/control", {action: "stop"}));
$("approve").addEventListener("click", () => answer("approve"));
$("deny").addEventListener("click", () => answer("deny"));
$("send").addEventListener("click", () => { answer($("q-answer").value); $("q-answer").value = ""; });
$("handback").addEventListener("click", () => { answer($("q-note").value || "hand back"); $("q-note").value = ""; });

(async function start() {
  const config = await (await fetch("/api/config")).json();
  $("model").value = config.model;
  $("env").value = config.env;
  $("url").value = config.url;
  $("task").value = config.task;
  $("instruction").maxLength = config.max_instruction;
  for (const spec of config.models) {
    const option = document.createElement("option");
    option.value = spec;
    $("models").append(option);
  }
  showEnvFields();
  connect();
})();
