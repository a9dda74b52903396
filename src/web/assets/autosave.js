// Saves reflection drafts while the participant types, so nothing typed is lost. Works without it
// too: the form's own buttons save and submit.
(function () {
  "use strict";
  var DELAY_MS = 1500;
  function setup(form) {
    var url = form.getAttribute("data-autosave-url");
    var status = form.querySelector(".autosave-status");
    var version = form.querySelector("input[name=version]");
    if (!url || !status || !version) return;
    var timer = null;
    var stopped = false;
    // A task not started until now has a draft: its status says so, beside "Draft saved".
    function draftStatus() {
      var section = form.closest("section");
      var shown = section && section.querySelector(".status.status-not-started");
      if (!shown) return;
      var label = shown.lastChild;
      if (label && label.nodeType === Node.TEXT_NODE) label.textContent = form.getAttribute("data-draft-status");
      shown.classList.remove("status-not-started");
      shown.classList.add("status-in-progress");
    }
    function save() {
      if (stopped) return;
      var data = new URLSearchParams(new FormData(form));
      data.set("action", "autosave");
      fetch(url, { method: "POST", body: data, credentials: "omit" })
        .then(function (response) {
          if (response.status === 409) {
            stopped = true;
            status.textContent = form.getAttribute("data-conflict-text");
            return null;
          }
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (body) {
          if (!body) return;
          version.value = String(body.version);
          status.textContent = form.getAttribute("data-saved-text") + " " + body.saved_at;
          draftStatus();
        })
        .catch(function () {
          status.textContent = form.getAttribute("data-failed-text");
        });
    }
    form.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, DELAY_MS);
    });
    form.addEventListener("submit", function (event) {
      // Submitting hands the answer to the course leader and cannot be undone: ask first.
      var question = form.getAttribute("data-confirm-submit");
      var submitter = event.submitter;
      if (question && submitter && submitter.value === "submit" && !window.confirm(question)) {
        event.preventDefault();
        return;
      }
      if (timer) clearTimeout(timer);
    });
  }
  document.querySelectorAll("form[data-autosave-url]").forEach(setup);
})();
