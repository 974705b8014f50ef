// The page's behaviour: pick a photo (click, drop or paste), send the form, and show each
// job's events as they arrive. The server renders every text; this only puts it in place.
"use strict";

const labels = JSON.parse(document.getElementById("labels").textContent);
const presets = JSON.parse(document.getElementById("presets").textContent);
const form = document.getElementById("animate");
const photo = document.getElementById("photo");
const drop = document.getElementById("drop");
const preview = document.getElementById("preview");
const message = document.getElementById("message");
const generate = document.getElementById("generate");
const jobs = document.getElementById("jobs");
const connection = document.getElementById("connection");

function say(text) {
  message.textContent = text || "";
}

// The photo

function showPreview() {
  const file = photo.files[0];
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.hidden = !file;
  preview.src = file ? URL.createObjectURL(file) : "";
  drop.classList.toggle("filled", Boolean(file));
  say("");
}

function usePhoto(file) {
  const chosen = new DataTransfer();
  chosen.items.add(file);
  photo.files = chosen.files;
  showPreview();
}

photo.addEventListener("change", showPreview);
drop.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") photo.click();
});
drop.addEventListener("dragover", (event) => {
  event.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  if (event.dataTransfer.files.length) usePhoto(event.dataTransfer.files[0]);
});
document.addEventListener("paste", (event) => {
  const file = [...event.clipboardData.files][0];
  if (file) {
    event.preventDefault();
    usePhoto(file);
  }
});

// The preset fills the advanced parameters, as in the original app

function fillPreset() {
  const chosen = presets[form.preset.value];
  for (const name of ["resolution", "frames", "fps", "steps", "guidance"]) {
    form.elements[name].value = chosen[name];
  }
}
form.preset.addEventListener("change", fillPreset);
fillPreset();

// Another model: the page again, with that model's presets and ranges
if (form.model) {
  form.model.addEventListener("change", () => {
    const url = new URL(location.href);
    url.searchParams.set("model", form.model.value);
    location.assign(url);
  });
}

// Jobs

async function post(url, body) {
  try {
    const response = await fetch(url, {method: "POST", body});
    const answer = await response.json();
    if (!response.ok) say(answer.error);
    return response.ok ? answer : null;
  } catch (error) {
    say(labels.network);
    return null;
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  say("");
  generate.disabled = true;
  generate.textContent = labels.uploading;
  const answer = await post("/api/jobs", new FormData(form));
  generate.disabled = false;
  generate.textContent = labels.generate;
  if (answer) card(answer.job);
});

function button(text, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.addEventListener("click", action);
  return element;
}

function card(jobId) {
  let element = jobs.querySelector(`[data-job="${jobId}"]`);
  if (element) return element;
  document.getElementById("no-jobs")?.remove();
  element = document.createElement("article");
  element.className = "job";
  element.dataset.job = jobId;
  const status = document.createElement("p");
  status.className = "status";
  const progress = document.createElement("progress");
  progress.hidden = true;
  const cancel = button(labels.cancel, async () => {
    const answer = await post(`/api/jobs/${jobId}/cancel`);
    // A running job stops after its step: say so, unless its end has been shown already.
    if (answer && answer.text && !element.dataset.final) status.textContent = answer.text;
  });
  cancel.className = "cancel";
  cancel.hidden = true;
  element.append(status, progress, cancel);
  jobs.prepend(element);
  return element;
}

function again(jobId, better) {
  const body = new FormData();
  body.append("better", better ? "1" : "0");
  return async () => {
    const answer = await post(`/api/jobs/${jobId}/again`, body);
    if (answer) card(answer.job);
  };
}

function showResult(element, jobId, result) {
  const video = document.createElement("video");
  video.controls = true;
  video.autoplay = true;
  video.muted = true;
  video.loop = true;
  video.playsInline = true;
  video.poster = result.poster;
  video.src = result.video;
  video.width = result.width;
  video.height = result.height;
  const caption = document.createElement("p");
  caption.className = "params";
  caption.textContent = result.caption;
  const download = document.createElement("a");
  download.className = "download";
  download.href = result.download;
  download.download = "";
  download.textContent = labels.download;
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.append(download);
  // The buttons the core offers for this video (extending is the chats' for now).
  for (const action of result.actions) {
    actions.append(button(labels[action], again(jobId, action === "better")));
  }
  element.append(video, caption, actions);
}

async function refreshHistory() {
  try {
    const response = await fetch("/history");
    if (response.ok) document.getElementById("history").innerHTML = await response.text();
  } catch (error) {
    // The next event tries again.
  }
}

function show(event) {
  const element = card(event.job);
  element.dataset.kind = event.kind;
  if (event.final) element.dataset.final = "1";
  element.querySelector(".status").textContent = event.text;
  const progress = element.querySelector("progress");
  progress.hidden = event.kind !== "progress";
  if (event.total) {
    progress.max = event.total;
    progress.value = event.step;
  }
  element.querySelector(".cancel").hidden = !event.cancellable;
  if (event.result && !element.querySelector("video")) showResult(element, event.job, event.result);
  if (event.final || event.kind === "queued") refreshHistory();
}

// Server-Sent Events: the browser reconnects by itself after a restart of the server.
const stream = new EventSource("/api/events");
stream.onmessage = (message) => show(JSON.parse(message.data));
// The bot was starting when the page was made: it can take jobs now.
stream.addEventListener("ready", () => document.getElementById("starting")?.remove());
stream.onopen = () => { connection.hidden = true; };
stream.onerror = () => {
  connection.textContent = labels.reconnecting;
  connection.hidden = false;
};
