// The page's behaviour: pick a photo (click, drop or paste), send the form, and show each
// job's events as they arrive. The server renders every text; this only puts it in place.
"use strict";

const data = (id) => JSON.parse(document.getElementById(id).textContent);
const labels = data("labels");
const presets = data("presets");
const recipes = data("recipes");
const stiffGuidance = data("stiff-guidance");
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

// The preset fills the advanced parameters, as in the original app; a recipe fills them
// with its tested values on top (its size is its own, so the resolution does not apply).

const placeholder = form.prompt.placeholder;

function fillPreset() {
  const chosen = presets[form.preset.value];
  for (const name of ["resolution", "frames", "fps", "steps", "guidance"]) {
    form.elements[name].value = chosen[name];
  }
  const recipe = form.recipe && recipes[form.recipe.value];
  form.resolution.disabled = Boolean(recipe);
  form.prompt.placeholder = recipe ? recipe.prompt : placeholder;
  if (recipe) {
    for (const name of ["frames", "fps", "steps", "guidance"]) {
      form.elements[name].value = recipe[name];
    }
  }
  warnGuidance();
}
form.preset.addEventListener("change", fillPreset);
if (form.recipe) form.recipe.addEventListener("change", fillPreset);

// The prompt coach, as one types: the same rule as bot/coach.py on the same word lists
// (tests/adapters/web/test_coach.py runs both on the same sentences).

const coach = (() => {
  const words = data("coach-words");
  const present = new Map();
  const past = new Map();
  const forms = new Set();
  for (const [base, third, pastForm, ing] of words.verbs) {
    present.set(third, ing);
    if (pastForm) past.set(pastForm, ing);
    for (const form of [base, third, pastForm, ing]) if (form) forms.add(form);
  }
  const list = (name) => new Set(words[name]);
  const determiners = list("determiners");
  const singular = list("singular");
  const plural = list("plural");
  const notSubjects = list("not_subjects");
  const prepositions = list("prepositions");
  const notAdverbs = list("not_adverbs");
  const MAX_ADVERBS = 2;

  const adverb = (word) => word.endsWith("ly") && word.length > 4 && !notAdverbs.has(word);

  function subject(words, i) {
    let j = i - 1;
    while (j >= 0 && i - j <= MAX_ADVERBS && adverb(words[j])) j -= 1;
    return j >= 0 ? j : null;
  }

  function afterDeterminer(words, j) {
    for (const k of [j - 1, j - 2]) {
      if (k >= 0 && determiners.has(words[k])) {
        if (k === j - 2 && notSubjects.has(words[j - 1])) return false;
        return !(k > 0 && prepositions.has(words[k - 1]));
      }
    }
    return false;
  }

  function isPlural(word) {
    if (plural.has(word)) return true;
    if (singular.has(word)) return false;
    return word.endsWith("s") && !["ss", "us", "is"].some((end) => word.endsWith(end));
  }

  return function suggestions(prompt) {
    const words = prompt.toLowerCase().match(/[a-z']+/g) || [];
    const found = new Map();
    words.forEach((word, i) => {
      if (found.has(word) || (!present.has(word) && !past.has(word))) return;
      const j = subject(words, i);
      if (j === null || notSubjects.has(words[j])) return;
      if (present.has(word)) {
        const following = i + 1 < words.length ? words[i + 1] : "";
        if (forms.has(following) || following.endsWith("ing")) return;
        if (!(singular.has(words[j]) || afterDeterminer(words, j))) return;
        found.set(word, `is ${present.get(word)}`);
      } else {
        found.set(word, `${isPlural(words[j]) ? "are" : "is"} ${past.get(word)}`);
      }
    });
    return [...found].map(([word, better]) => ({found: word, better}));
  };
})();
window.coachSuggestions = coach;  // for the test that keeps it in step with the server's

function fill(template, values) {
  return Object.entries(values).reduce((line, [name, value]) => line.replace(`{${name}}`, value),
                                       template);
}

const hint = document.getElementById("coach");
function showCoach() {
  const found = coach(form.prompt.value);
  hint.hidden = found.length === 0;
  hint.textContent = found.length === 0 ? "" : fill(labels.coach, {
    pairs: found.map((s) => fill(labels.coach_pair, s)).join(", ")});
}
form.prompt.addEventListener("input", showCoach);

const guidanceWarning = document.getElementById("guidance-warning");
function warnGuidance() {
  const value = Number(form.guidance.value);
  const stiff = stiffGuidance !== null && form.guidance.value !== "" && value > stiffGuidance;
  guidanceWarning.hidden = !stiff;
  guidanceWarning.textContent = stiff ? fill(labels.stiff, {guidance: String(value),
                                                           limit: String(stiffGuidance)}) : "";
}
form.guidance.addEventListener("input", warnGuidance);
fillPreset();
showCoach();

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
  if (answer) advise(card(answer.job), answer.advice);
});

// What the server advises about a new job's settings, once, under its card.
function advise(element, lines) {
  if (!lines || !lines.length || element.querySelector(".advice")) return;
  const advice = document.createElement("p");
  advice.className = "advice";
  advice.textContent = lines.join("\n");
  element.append(advice);
}

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
  // What the model predicts the video will be, while it renders (live previews).
  const forming = document.createElement("img");
  forming.className = "forming";
  forming.alt = "";
  forming.hidden = true;
  const progress = document.createElement("progress");
  progress.hidden = true;
  const cancel = button(labels.cancel, async () => {
    const answer = await post(`/api/jobs/${jobId}/cancel`);
    // A running job stops after its step: say so, unless its end has been shown already.
    if (answer && answer.text && !element.dataset.final) status.textContent = answer.text;
  });
  cancel.className = "cancel";
  cancel.hidden = true;
  element.append(status, forming, progress, cancel);
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
  const forming = element.querySelector("img.forming");
  if (event.preview) {
    forming.src = event.preview;
    forming.hidden = false;
  }
  if (event.final) forming.hidden = true;  // the video takes its place
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
