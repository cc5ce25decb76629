// cronpilot's Mini App: the chat's tasks, their history, and new tasks with a live preview.
// Plain JavaScript, no build step. Every request carries Telegram's signed initData
// ("Authorization: tma …"); the server checks the signature and the same access rules as the bot.
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
};

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
    const error = new Error((body && body.error) || `the server answered ${response.status}`);
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
    return new Date(Date.parse(iso) + minutes * 60000).toLocaleString([], { ...shown, timeZone: "UTC" });
  }
  return new Date(iso).toLocaleString([], shown);
}

function seconds(value) {
  if (value === null || value === undefined) return "";
  return value < 60 ? `${value.toFixed(1)} s` : `${Math.round(value / 60)} min`;
}

async function loadChats() {
  const { chats } = await api("chats");
  state.chats = chats;
  const select = $("chat");
  select.replaceChildren(
    ...chats.map((chat) => new Option(chat.type === "private" ? "Private chat" : chat.title || String(chat.id), chat.id)),
  );
  select.hidden = chats.length < 2;
  if (chats.length === 0) {
    say("There is no chat of yours here yet: write to the bot first.");
    return;
  }
  chooseChat(chats[0].id);
}

function chooseChat(chatId) {
  state.chatId = Number(chatId);
  const chat = state.chats.find((item) => item.id === state.chatId);
  state.canManage = Boolean(chat && chat.can_manage);
  $("create").hidden = !state.canManage;
  return loadTasks();
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
  item.querySelector(".task-state").textContent = task.state;
  item.querySelector(".task-when").textContent = `${task.description} (${task.timezone})`;
  item.querySelector(".task-next").textContent = task.next_runs.length
    ? `Next: ${task.next_runs.map((run) => when(run, task.timezone)).join(" · ")}`
    : "No next run";
  // A reminder posts its words without any model; an AI task has the model do it.
  item.dataset.mode = task.mode;
  item.querySelector(".task-mode").textContent = task.mode === "reminder"
    ? "⏰ Reminder: posted as written, without any AI model"
    : "🤖 AI task: the AI model does it at each run";
  item.querySelector('[data-action="mode"]').textContent = task.mode === "reminder"
    ? "🤖 Let the AI do it"
    : "⏰ Just remind me";
  item.querySelector(".task-targets").textContent = `Posts to: ${task.targets.map(targetName).join(" · ")}`;
  const edit = item.querySelector(".targets-edit");
  edit.addEventListener("submit", (event) => {
    event.preventDefault();
    saveTargets(task, item).catch((error) => say(error.message, true));
  });
  const toggle = item.querySelector('[data-action="toggle"]');
  toggle.textContent = task.state === "active" ? "Pause" : "Resume";
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
      say(next === "paused" ? `Task #${task.id} is paused.` : `Task #${task.id} is active again.`);
    } else if (action === "mode") {
      const mode = task.mode === "reminder" ? "ai" : "reminder";
      const changed = await api(`tasks/${task.id}`, { method: "PATCH", body: JSON.stringify({ mode }) });
      item.replaceWith(renderTask(changed));
      say(mode === "reminder" ? `Task #${task.id} is a reminder now.` : `Task #${task.id} is an AI task now.`);
    } else if (action === "run") {
      await api(`tasks/${task.id}/run`, { method: "POST" });
      say(`Task #${task.id} is running; the result will arrive in the chat.`);
    } else if (action === "delete") {
      if (!window.confirm(`Delete task #${task.id} and its history?`)) return;
      await api(`tasks/${task.id}`, { method: "DELETE" });
      item.remove();
      say(`Task #${task.id} was deleted.`);
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
  if (target.kind === "chat") return target.thread_id === null ? "here" : `here (topic ${target.thread_id})`;
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
    ? `here, @channel or a chat id, or a destination: ${state.destinations.join(", ")}`
    : "here, @channel or a chat id";
}

async function saveTargets(task, item) {
  const words = item.querySelector(".targets-input").value.split(/[\s,]+/).filter(Boolean);
  const changed = await api(`tasks/${task.id}`, { method: "PATCH", body: JSON.stringify({ targets: words }) });
  item.replaceWith(renderTask(changed));
  say(`Task #${task.id} posts to ${changed.targets.map(targetName).join(" · ")}.`);
}

function deliveries(run) {
  return (run.deliveries || [])
    .map((delivery) => {
      const sign = { sent: "✓", failed: "✗", retrying: "✗", pending: "…" }[delivery.state] || "?";
      const why = delivery.error ? `: ${delivery.error}${delivery.state === "retrying" ? ", retrying" : ""}` : "";
      return `${sign} ${delivery.target}${why}`;
    })
    .join(" · ");
}

async function loadDestinations() {
  const { destinations } = await api("destinations");
  state.destinations = destinations;
  $("destination-names").replaceChildren(...destinations.map((name) => new Option(name)));
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
        line.textContent = "No runs yet.";
        return line;
      }
      const parts = [when(run.started_at || run.scheduled_for, task.timezone), run.status, run.trigger];
      if (run.duration_seconds !== null) parts.push(seconds(run.duration_seconds));
      if (run.prompt_tokens !== null) parts.push(`${run.prompt_tokens + (run.completion_tokens || 0)} tokens`);
      if (run.cost !== null) parts.push(`$${run.cost.toFixed(4)}`);
      if (run.tools && run.tools.length) parts.push(`tools: ${run.tools.map((tool) => tool.name).join(", ")}`);
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
      line(`Task: ${parsed.prompt}`),
      line(`When: ${parsed.description}${parsed.cron ? ` (${parsed.cron})` : ""}, ${parsed.timezone}`),
      line(`Next: ${parsed.next_runs.map((run) => when(run, parsed.timezone)).join(" · ")}`),
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
    say(`Scheduled as task #${task.id}.`);
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
  if (!initData) {
    say("Open this page from the bot in Telegram (the menu button or /tasks).", true);
    return;
  }
  try {
    await loadDestinations();
    await loadChats();
  } catch (error) {
    say(error.message, true);
  }
}

main();
