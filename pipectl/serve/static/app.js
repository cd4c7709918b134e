// pipectl serve: drag a card to a column, the deal page's forms, and a poll that reloads the
// page when the pipeline changed on disk. Every change is a POST with the page's CSRF token
// and the version of the deal the page was rendered from; nothing is fetched from elsewhere.
"use strict";
(function () {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const token = meta("csrf-token");
  let version = meta("pipeline-version");
  let busy = false;

  function flash(text, bad) {
    const box = document.getElementById("flash");
    box.textContent = text;
    box.className = bad ? "bad" : "good";
    box.hidden = false;
  }

  async function post(action, body) {
    busy = true;
    try {
      const res = await fetch(`/api/${action}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      return { status: res.status, data: await res.json() };
    } finally {
      busy = false;
    }
  }

  function done(result) {
    if (result.status === 200) {
      sessionStorage.setItem("pipectl-flash", result.data.message);
      location.reload();
      return true;
    }
    flash(result.data.error, true);
    if (result.data.stale) setTimeout(() => location.reload(), 1500);
    return false;
  }

  // the board: HTML drag and drop of a card onto another column
  let dragged = null;
  document.querySelectorAll(".card").forEach((card) => {
    card.addEventListener("dragstart", (ev) => {
      dragged = card;
      ev.dataTransfer.setData("text/plain", card.dataset.deal);
    });
  });
  document.querySelectorAll(".column").forEach((col) => {
    col.addEventListener("dragover", (ev) => { ev.preventDefault(); col.classList.add("over"); });
    col.addEventListener("dragleave", () => col.classList.remove("over"));
    col.addEventListener("drop", async (ev) => {
      ev.preventDefault();
      col.classList.remove("over");
      if (!dragged || dragged.closest(".column") === col) return;
      const body = { deal: dragged.dataset.deal, version: dragged.dataset.version, stage: col.dataset.stage };
      const result = await post("move", body);
      if (result.status === 409 && result.data.missing && result.data.missing.length) {
        gate(result.data, body);
      } else {
        done(result);
      }
    });
  });

  function gate(data, body) {
    const dialog = document.getElementById("gate");
    dialog.querySelector(".why").textContent = data.error;
    const list = dialog.querySelector(".missing");
    list.replaceChildren(...data.missing.map((m) => {
      const li = document.createElement("li");
      li.textContent = m;
      return li;
    }));
    dialog.onclose = async () => {
      if (dialog.returnValue === "force") done(await post("move", { ...body, force: true }));
    };
    dialog.showModal();
  }

  // the deal page: each form is one operation
  const article = document.querySelector("article.deal");
  document.querySelectorAll("form.change").forEach((form) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { deal: article.dataset.deal, version: article.dataset.version };
      if (form.dataset.action === "set") {  // only the fields changed, "" to unset
        body.values = {};
        form.querySelectorAll("[data-initial]").forEach((el) => {
          if (el.value !== el.dataset.initial) body.values[el.name] = el.value;
        });
      } else {
        new FormData(form).forEach((v, k) => { if (v !== "") body[k] = v; });
      }
      done(await post(form.dataset.action, body));
    });
  });

  const said = sessionStorage.getItem("pipectl-flash");
  if (said) { sessionStorage.removeItem("pipectl-flash"); flash(said, false); }

  // a hand edit, a commit or a git pull shows within seconds; not while typing
  const typing = () => [...document.querySelectorAll("form.change input, form.change select")]
    .some((i) => (i.dataset.initial === undefined ? i.tagName === "INPUT" && i.value : i.value !== i.dataset.initial));
  setInterval(async () => {
    if (busy || document.hidden || typing()) return;
    try {
      const res = await fetch("/api/version", { credentials: "same-origin" });
      const now = (await res.json()).version;
      if (now !== version) { version = now; location.reload(); }
    } catch (err) { /* the server is down: try again next time */ }
  }, 1500);
})();
