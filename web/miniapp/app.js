// cronpilot's Mini App: the chat's tasks, their history, and new tasks with a live preview.
// Plain JavaScript, no build step. Every request carries Telegram's signed initData
// ("Authorization: tma …"); the server checks the signature and the same access rules as the bot.
// Every text it shows is `_("…")`: pybabel extracts them into the bot's catalogs, and the page
// asks the server for them in the chat's language (GET texts; web/texts.py).
"use strict";

const webApp = window.Telegram && window.Telegram.WebApp;
const launch = new URLSearchParams(location.hash.slice(1));
const initData = (webApp && webApp.initData) || launch.get("tgWebAppData") || "";
const API = new URL("../api/v1/", location.href);

const $ = (id) => document.getElementById(id);
const state = {
  chats: [],
  chatId: null,
  canManage: false,
  previewFor: "",
  previewTimer: null,
  destinations: [],
  // The models a task may choose (GET models) and the tools it may have (GET tools).
  models: { default: "", models: [] },
  tools: [],
  language: "",
  texts: {},
};

// A text in the page's language, its `{name}` placeholders filled from `values`.
function _(text, values = {}) {
  const translated = state.texts[text] || text;
  return translated.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// The language of the person's Telegram app, as initData says it.
function appLanguage() {
  try {
    const user = JSON.parse(new URLSearchParams(initData).get("user") || "{}");
    return user.language_code || navigator.language || "en";
  } catch (error) {
    return navigator.language || "en";
  }
}

async function loadTexts(language) {
  if (state.language && String(language).split(/[-_]/)[0].toLowerCase() === state.language) return;
  const response = await fetch(new URL(`texts?language=${encodeURIComponent(language)}`, API));
  if (!response.ok) return; // the English the page is written in
  const answer = await response.json();
  state.language = answer.language;
  state.texts = answer.texts;
  document.documentElement.lang = answer.language;
  showTexts();
}

// The page's own texts (index.html holds them in English).
function showTexts() {
  $("chat").setAttribute("aria-label", _("Chat"));
  $("tasks").setAttribute("aria-label", _("Tasks"));
  $("create").setAttribute("aria-label", _("New task"));
  $("create-title").textContent = _("New task");
  $("empty").textContent = _("No tasks here yet. Write one below.");
  $("request").placeholder = _("every weekday at 9am summarize the top Hacker News stories");
  $("confirm").textContent = _("Confirm");
  const template = $("task-template").content;
  const labels = {
    run: _("Run now"),
    history: _("History"),
    targets: _("Targets"),
    setup: _("Model, tools, cap"),
    delete: _("Delete"),
  };
  for (const [action, label] of Object.entries(labels)) {
    template.querySelector(`[data-action="${action}"]`).textContent = label;
  }
  template.querySelector(".targets-input").setAttribute("aria-label", _("Targets"));
  template.querySelector(".targets-input").placeholder = _("here @channel destination");
  for (const button of template.querySelectorAll('button[type="submit"]')) button.textContent = _("Save");
  template.querySelector(".setup-model-label").textContent = _("Model");
  template.querySelector(".setup-tools-label").textContent = _("Tools");
  template.querySelector(".setup-cap-label").textContent = _("Monthly cap in dollars (empty: none)");
}

// An amount in dollars as the bot words it: two significant digits ("$0.0023", "$1,200").
function dollars(amount) {
  return new Intl.NumberFormat(state.language || "en", {
    style: "currency",
    currency: "USD",
    maximumSignificantDigits: 2,
  }).format(amount);
}

// A monthly cap as it was given ("$0.50", "$0.000001").
function capText(amount) {
  return new Intl.NumberFormat(state.language || "en", {
    style: "currency",
    currency: "USD",
    maximumFractionDigits: 6,
  }).format(amount);
}

function applyTheme() {
  let theme = webApp && webApp.themeParams;
  if (!theme || Object.keys(theme).length === 0) {
    try {
      theme = JSON.parse(launch.get("tgWebAppThemeParams") || "{}");
    } catch (error) {
      theme = {};
    }
  }
  for (const [key, value] of Object.entries(theme)) {
    if (typeof value === "string" && /^#[0-9a-f]{3,8}$/i.test(value)) {
      document.documentElement.style.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
    }
  }
}

async function api(path, options = {}) {
  const response = await fetch(new URL(path, API), {
    ...options,
    headers: {
      Authorization: `tma ${initData}`,
      // Refusals come in the page's language too (`message`; `error` is the English).
      "Accept-Language": state.language || appLanguage(),
      ...(options.body ? { "Content-Type": "application/json" } : {}),
    },
  });
  if (response.status === 204) return null;
  let body = null;
  try {
    body = await response.json();
  } catch (error) {
    body = null;
  }
  if (!response.ok) {
    const error = new Error((body && (body.message || body.error)) || _("The server answered {status}.", { status: response.status }));
    error.status = response.status;
    throw error;
  }
  return body;
}

function say(text, bad = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("bad", bad);
  status.hidden = !text;
}

function when(iso, zone) {
  const shown = {
    timeZone: zone,
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  };
  // A fixed offset from UTC ("UTC+05:30") is no IANA zone: show the instant moved by it, in UTC.
  const offset = /^UTC([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (offset) {
    const minutes = (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
    return new Date(Date.parse(iso) + minutes * 60000).toLocaleString(state.language || [], { ...shown, timeZone: "UTC" });
  }
  return new Date(iso).toLocaleString(state.language || [], shown);
}

function seconds(value) {
  if (value === null || value === undefined) return "";
  return value < 60
    ? _("{seconds} s", { seconds: value.toFixed(1) })
    : _("{minutes} min", { minutes: Math.round(value / 60) });
}

async function loadChats() {
  const { chats } = await api("chats");
  state.chats = chats;
  const select = $("chat");
  select.replaceChildren(
    ...chats.map((chat) => new Option(chat.type === "private" ? _("Private chat") : chat.title || String(chat.id), chat.id)),
  );
  select.hidden = chats.length < 2;
  if (chats.length === 0) {
    say(_("There is no chat of yours here yet: write to the bot first."));
    return;
  }
  chooseChat(chats[0].id);
}

function chooseChat(chatId) {
  state.chatId = Number(chatId);
  const chat = state.chats.find((item) => item.id === state.chatId);
  state.canManage = Boolean(chat && chat.can_manage);
  $("create").hidden = !state.canManage;
  // The chat's own language (/language), else the person's.
  return loadTexts((chat && chat.language) || appLanguage()).then(loadTasks);
}

async function loadTasks() {
  const { tasks } = await api(`tasks?chat_id=${state.chatId}`);
  const list = $("task-list");
  list.replaceChildren(...tasks.map(renderTask));
  $("empty").hidden = tasks.length > 0;
}

function renderTask(task) {
  const item = $("task-template").content.firstElementChild.cloneNode(true);
  item.dataset.id = task.id;
  item.dataset.state = task.state;
  item.querySelector(".task-name").textContent = `#${task.id} ${task.name}`;
  item.querySelector(".task-state").textContent = { active: _("active"), paused: _("paused"), finished: _("finished") }[task.state] || task.state;
  item.querySelector(".task-when").textContent = `${task.description} (${task.timezone})`;
  item.querySelector(".task-next").textContent = task.next_runs.length
    ? _("Next: {runs}", { runs: task.next_runs.map((run) => when(run, task.timezone)).join(" · ") })
    : _("No next run");
  // A reminder posts its words without any model; an AI task has the model do it.
  item.dataset.mode = task.mode;
  item.querySelector(".task-mode").textContent = task.mode === "reminder"
    ? _("⏰ Reminder: posted as written, without any AI model")
    : _("🤖 AI task: the AI model does it at each run");
  item.querySelector('[data-action="mode"]').textContent = task.mode === "reminder"
    ? _("🤖 Let the AI do it")
    : _("⏰ Just remind me");
  item.querySelector(".task-setup").textContent = task.mode === "ai" ? setupLine(task) : "";
  item.querySelector(".task-setup").hidden = task.mode !== "ai";
  item.querySelector('[data-action="setup"]').hidden = task.mode !== "ai";
  // Skip next: the coming run is recorded as skipped; Undo skip gives it back before it is due.
  item.dataset.skipped = task.skipped_for ? "yes" : "no";
  const skipped = item.querySelector(".task-skipped");
  skipped.textContent = task.skipped_for ? _("Next run skipped: {when}", { when: when(task.skipped_for, task.timezone) }) : "";
  skipped.hidden = !task.skipped_for;
  const skip = item.querySelector('[data-action="skip"]');
  skip.textContent = task.skipped_for ? _("↩️ Undo skip") : _("⏭ Skip next");
  skip.hidden = !task.skipped_for && task.next_runs.length === 0;
  item.querySelector(".task-targets").textContent = _("Posts to: {targets}", { targets: task.targets.map(targetName).join(" · ") });
  const setup = item.querySelector(".setup-edit");
  setup.addEventListener("submit", (event) => {
    event.preventDefault();
    saveSetup(task, item).catch((error) => say(error.message, true));
  });
  const edit = item.querySelector(".targets-edit");
  edit.addEventListener("submit", (event) => {
    event.preventDefault();
    saveTargets(task, item).catch((error) => say(error.message, true));
  });
  const toggle = item.querySelector('[data-action="toggle"]');
  toggle.textContent = task.state === "active" ? _("Pause") : _("Resume");
  toggle.hidden = task.state === "finished";
  for (const button of item.querySelectorAll("[data-action]")) {
    if (button.dataset.action !== "history") button.disabled = !state.canManage;
    button.addEventListener("click", () => act(task, button.dataset.action, item));
  }
  return item;
}

async function act(task, action, item) {
  try {
    if (action === "toggle") {
      const next = task.state === "active" ? "paused" : "active";
      const changed = await api(`tasks/${task.id}`, { method: "PATCH", body: JSON.stringify({ state: next }) });
      item.replaceWith(renderTask(changed));
      say(next === "paused" ? _("Task #{number} is paused.", { number: task.id }) : _("Task #{number} is active again.", { number: task.id }));
    } else if (action === "mode") {
      const mode = task.mode === "reminder" ? "ai" : "reminder";
      const changed = await api(`tasks/${task.id}`, { method: "PATCH", body: JSON.stringify({ mode }) });
      item.replaceWith(renderTask(changed));
      say(mode === "reminder" ? _("Task #{number} is a reminder now.", { number: task.id }) : _("Task #{number} is an AI task now.", { number: task.id }));
    } else if (action === "skip") {
      await skipOrUndo(task, item);
    } else if (action === "setup") {
      await editSetup(task, item);
    } else if (action === "run") {
      await api(`tasks/${task.id}/run`, { method: "POST" });
      say(_("Task #{number} is running; the result will arrive in the chat.", { number: task.id }));
    } else if (action === "delete") {
      if (!window.confirm(_("Delete task #{number} and its history?", { number: task.id }))) return;
      await api(`tasks/${task.id}`, { method: "DELETE" });
      item.remove();
      say(_("Task #{number} was deleted.", { number: task.id }));
    } else if (action === "history") {
      await showHistory(task, item.querySelector(".history"));
    } else if (action === "targets") {
      editTargets(task, item);
    }
  } catch (error) {
    say(error.message, true);
  }
}

// A target as people name it, and as the API takes it back ("here", "@news" or a chat's id, a
// destination's name).
function targetName(target) {
  if (target.kind === "chat") return target.thread_id === null ? _("here") : _("here (topic {topic})", { topic: target.thread_id });
  return target.name;
}

function targetWord(target) {
  if (target.kind === "chat") return "here";
  if (target.kind === "telegram" && !target.name.startsWith("@")) return String(target.chat_id);
  return target.name;
}

function editTargets(task, item) {
  const edit = item.querySelector(".targets-edit");
  edit.hidden = !edit.hidden;
  if (edit.hidden) return;
  item.querySelector(".targets-input").value = task.targets.map(targetWord).join(" ");
  item.querySelector(".targets-help").textContent = state.destinations.length
    ? _("Write here, @channel or a chat id, or a destination: {names}", { names: state.destinations.join(", ") })
    : _("Write here, @channel or a chat id");
}

async function saveTargets(task, item) {
  const words = item.querySelector(".targets-input").value.split(/[\s,]+/).filter(Boolean);
  const changed = await api(`tasks/${task.id}`, { method: "PATCH", body: JSON.stringify({ targets: words }) });
  item.replaceWith(renderTask(changed));
  say(_("Task #{number} posts to {targets}.", { number: task.id, targets: changed.targets.map(targetName).join(" · ") }));
}

// The model, tools and monthly cap of an AI task, as its card lists them.
function setupLine(task) {
  const model = task.model === null ? _("default ({model})", { model: state.models.default }) : task.model;
  const on = toolsOn(task);
  const parts = [
    _("Model: {model}", { model }),
    on.length ? _("Tools: {tools}", { tools: on.map((tool) => _(tool.label)).join(", ") }) : _("No tools"),
    task.monthly_cap_usd === null ? _("No monthly cap") : _("Monthly cap: {amount}", { amount: capText(task.monthly_cap_usd) }),
  ];
  return parts.join(" · ");
}

function toolsOn(task) {
  return state.tools.filter((tool) => task.tools === null || task.tools.includes(tool.key));
}

function estimateLine(estimate) {
  if (!estimate) return "";
  if (estimate.free) return _("💵 Cost: free, a reminder asks no AI model.");
  if (estimate.loading) return _("💵 Cost: the price list is still loading; open the task again in a moment.");
  if (estimate.per_run_usd === null) return _("💵 Cost unknown: no price for {model}.", { model: estimate.model });
  return _("💵 Cost: ≈ {per_run} a run, ≈ {per_month} a month (estimate)", {
    per_run: dollars(estimate.per_run_usd),
    per_month: dollars(estimate.per_month_usd),
  });
}

async function skipOrUndo(task, item) {
  if (task.skipped_for) {
    const { task: changed } = await api(`tasks/${task.id}/skip`, { method: "DELETE" });
    item.replaceWith(renderTask(changed));
    say(_("Task #{number} runs at {when} after all.", { number: task.id, when: when(task.skipped_for, task.timezone) }));
  } else {
    const { task: changed, skipped_for: skipped } = await api(`tasks/${task.id}/skip`, { method: "POST" });
    item.replaceWith(renderTask(changed));
    say(_("The run of task #{number} at {when} is skipped.", { number: task.id, when: when(skipped, task.timezone) }));
  }
}

// The settings form, filled from the task as it is now (with what it will cost).
async function editSetup(task, item) {
  const edit = item.querySelector(".setup-edit");
  if (!edit.hidden) {
    edit.hidden = true;
    return;
  }
  const fresh = await api(`tasks/${task.id}`);
  const model = item.querySelector(".setup-model");
  model.replaceChildren(
    new Option(_("default ({model})", { model: state.models.default }), "default"),
    ...state.models.models.map((name) => new Option(name, name)),
  );
  model.value = fresh.model === null ? "default" : fresh.model;
  const tools = item.querySelector(".setup-tools");
  tools.replaceChildren(
    ...(state.tools.length ? state.tools : [null]).map((tool) => {
      const label = document.createElement("label");
      if (tool === null) {
        label.textContent = _("No tools are set up on this bot.");
        return label;
      }
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = tool.key;
      box.checked = fresh.tools === null || fresh.tools.includes(tool.key);
      label.append(box, ` ${_(tool.label)}`);
      return label;
    }),
  );
  item.querySelector(".setup-cap").value = fresh.monthly_cap_usd === null ? "" : String(fresh.monthly_cap_usd);
  item.querySelector(".setup-estimate").textContent = estimateLine(fresh.estimate);
  edit.hidden = false;
}

async function saveSetup(task, item) {
  const written = item.querySelector(".setup-cap").value.trim().replace(",", ".");
  const cap = written === "" ? null : Number(written);
  if (cap !== null && !Number.isFinite(cap)) {
    say(_("A monthly cap is an amount in dollars, such as 0.50; leave it empty for none."), true);
    return;
  }
  const body = {
    model: item.querySelector(".setup-model").value,
    tools: [...item.querySelectorAll(".setup-tools input:checked")].map((box) => box.value),
    monthly_cap_usd: cap,
  };
  const changed = await api(`tasks/${task.id}`, { method: "PATCH", body: JSON.stringify(body) });
  const shown = renderTask(changed);
  item.replaceWith(shown);
  const estimate = estimateLine(changed.estimate);
  say(estimate
    ? _("Task #{number} is saved. {estimate}", { number: task.id, estimate })
    : _("Task #{number} is saved.", { number: task.id }));
}

function deliveries(run) {
  return (run.deliveries || [])
    .map((delivery) => {
      const sign = { sent: "✓", failed: "✗", retrying: "✗", pending: "…" }[delivery.state] || "?";
      const target = delivery.target === "here" ? _("here") : delivery.target;
      if (!delivery.error) return `${sign} ${target}`;
      // Outside a template literal: pybabel does not look into one.
      const why = delivery.state === "retrying"
        ? _("{target}: {error}, retrying", { target, error: delivery.error })
        : _("{target}: {error}", { target, error: delivery.error });
      return sign + " " + why;
    })
    .join(" · ");
}

async function loadDestinations() {
  const { destinations } = await api("destinations");
  state.destinations = destinations;
  $("destination-names").replaceChildren(...destinations.map((name) => new Option(name)));
}

async function loadChoices() {
  state.models = await api("models");
  state.tools = (await api("tools")).tools;
}

function runStatus(status) {
  return {
    running: _("running"),
    succeeded: _("succeeded"),
    failed: _("failed"),
    silent: _("silent"),
    skipped: _("skipped"),
    missed: _("missed"),
    interrupted: _("interrupted"),
  }[status] || status;
}

function runTrigger(trigger) {
  return {
    schedule: _("schedule"),
    manual: _("manual"),
    catch_up: _("catch-up"),
    retry: _("retry"),
    event: _("trigger URL"),
    after: _("after another task"),
  }[trigger] || trigger;
}

async function showHistory(task, list) {
  if (!list.hidden) {
    list.hidden = true;
    return;
  }
  const { runs } = await api(`tasks/${task.id}/runs?limit=10`);
  list.replaceChildren(
    ...(runs.length ? runs : [null]).map((run) => {
      const line = document.createElement("li");
      if (run === null) {
        line.textContent = _("No runs yet.");
        return line;
      }
      const parts = [when(run.started_at || run.scheduled_for, task.timezone), runStatus(run.status), runTrigger(run.trigger)];
      if (run.duration_seconds !== null) parts.push(seconds(run.duration_seconds));
      if (run.prompt_tokens !== null) parts.push(_("tokens: {count}", { count: run.prompt_tokens + (run.completion_tokens || 0) }));
      if (run.cost !== null) parts.push(`$${run.cost.toFixed(4)}`);
      if (run.tools && run.tools.length) parts.push(_("tools used: {tools}", { tools: run.tools.map((tool) => tool.name).join(", ") }));
      if (run.error) parts.push(run.error);
      if (run.deliveries && run.deliveries.length > 1) parts.push(deliveries(run));
      line.textContent = parts.join(" · ");
      return line;
    }),
  );
  list.hidden = false;
}

function schedulePreview() {
  clearTimeout(state.previewTimer);
  $("confirm").disabled = true;
  state.previewTimer = setTimeout(preview, 350);
}

async function preview() {
  const text = $("request").value.trim();
  const box = $("preview");
  state.previewFor = "";
  if (!text) {
    box.hidden = true;
    return;
  }
  try {
    const parsed = await api("parse", { method: "POST", body: JSON.stringify({ text, chat_id: state.chatId }) });
    if ($("request").value.trim() !== text) return; // typed on meanwhile; a newer preview follows
    box.classList.remove("bad");
    box.replaceChildren(
      line(_("Task: {prompt}", { prompt: parsed.prompt })),
      line(parsed.cron
        ? _("When: {schedule} ({cron}), {zone}", { schedule: parsed.description, cron: parsed.cron, zone: parsed.timezone })
        : _("When: {schedule}, {zone}", { schedule: parsed.description, zone: parsed.timezone })),
      line(_("Next: {runs}", { runs: parsed.next_runs.map((run) => when(run, parsed.timezone)).join(" · ") })),
    );
    state.previewFor = text;
    $("confirm").disabled = false;
  } catch (error) {
    box.classList.add("bad");
    box.replaceChildren(line(error.message));
  }
  box.hidden = false;
}

function line(text) {
  const element = document.createElement("div");
  element.textContent = text;
  return element;
}

async function confirmTask() {
  const text = state.previewFor;
  if (!text) return;
  $("confirm").disabled = true;
  try {
    const task = await api("tasks", { method: "POST", body: JSON.stringify({ chat_id: state.chatId, text }) });
    $("request").value = "";
    $("preview").hidden = true;
    say(_("Scheduled as task #{number}.", { number: task.id }));
    await loadTasks();
  } catch (error) {
    say(error.message, true);
    $("confirm").disabled = false;
  }
}

async function main() {
  applyTheme();
  if (webApp) {
    webApp.ready();
    webApp.expand();
  }
  $("chat").addEventListener("change", (event) => chooseChat(event.target.value).catch((error) => say(error.message, true)));
  $("request").addEventListener("input", schedulePreview);
  $("confirm").addEventListener("click", confirmTask);
  await loadTexts(appLanguage()).catch(() => undefined);
  if (!initData) {
    say(_("Open this page from the bot in Telegram (the menu button or /tasks)."), true);
    return;
  }
  try {
    await loadDestinations();
    await loadChoices();
    await loadChats();
  } catch (error) {
    say(error.message, true);
  }
}

main();
