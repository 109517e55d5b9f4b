// Progressive enhancement only: every page works without this file.
// - Questionnaire: each practice is saved as soon as it changes; the status
//   says « Enregistré » only once the server has acknowledged the save.
// - Forms marked data-submit-once: the button is disabled after the first click.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var messages = {
    fr: { saving: "Enregistrement…", saved: "Enregistré", offline: "Non enregistré : connexion perdue. Nouvel essai automatique…", failed: "Non enregistré" },
    en: { saving: "Saving…", saved: "Saved", offline: "Not saved: connection lost. Retrying automatically…", failed: "Not saved" }
  };
  var t = messages[document.documentElement.lang] || messages.fr;

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setStatus(el, text, state) {
    el.textContent = text;
    el.classList.toggle("is-saved", state === "saved");
    el.classList.toggle("is-error", state === "error");
  }

  function updateProgress(answered) {
    var bar = document.getElementById("progress");
    var count = document.querySelector("[data-answered]");
    if (bar) { bar.value = answered; bar.textContent = answered + " / " + bar.max; }
    if (count) { count.textContent = answered; }
  }

  function updateStepCount(form) {
    var current = form.querySelector(".step-link.is-current .step-state");
    if (!current) { return; }
    var practices = form.querySelectorAll("fieldset.practice");
    var done = 0;
    practices.forEach(function (p) {
      if (p.querySelector(".dimension-level input:checked")) { done += 1; }
    });
    current.textContent = done + "/" + practices.length;
  }

  // One queue per practice: requests leave in order and only the latest
  // pending state is sent, so the last change made is the last one saved.
  // Each save carries when the change was made (editedAt): when another tab
  // saved a later change first, the server keeps it and sends it back.
  function Saver(fieldset, form) {
    this.fieldset = fieldset;
    this.form = form;
    this.url = fieldset.getAttribute("data-autosave-url");
    this.status = fieldset.querySelector("[data-save-status]");
    this.inFlight = false;
    this.pending = false;
    this.retryDelay = 1000;
    this.editedAt = 0;
  }
  Saver.prototype.touch = function () {
    // Strictly increasing, even for two changes within one millisecond.
    this.editedAt = Math.max(Date.now(), this.editedAt + 1);
  };
  Saver.prototype.show = function (values) {
    this.fieldset.querySelectorAll("input, textarea").forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(values, el.name)) { return; }
      if (el.type === "radio") { el.checked = values[el.name] === el.value; } else { el.value = values[el.name]; }
    });
  };
  Saver.prototype.payload = function () {
    var data = new URLSearchParams();
    this.fieldset.querySelectorAll("input, textarea").forEach(function (el) {
      if (el.type === "radio" && !el.checked) { return; }
      data.append(el.name, el.value);
    });
    if (this.editedAt) { data.append("edited_at", String(this.editedAt)); }
    return data;
  };
  Saver.prototype.schedule = function () {
    this.pending = true;
    if (!this.inFlight) { this.send(); }
  };
  Saver.prototype.send = function () {
    var self = this;
    var sentEditedAt = self.editedAt;
    self.pending = false;
    self.inFlight = true;
    setStatus(self.status, t.saving, "saving");
    fetch(self.url, {
      method: "POST",
      body: self.payload(),
      headers: { "X-CSRFToken": csrfToken(self.form), "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        self.inFlight = false;
        if (response.ok && body.ok) {
          self.retryDelay = 1000;
          // Shown only if nothing was changed here since: a newer change then wins.
          if (body.stale && body.values && !self.pending && self.editedAt === sentEditedAt) {
            self.show(body.values);
            setStatus(self.status, body.message, "stale");
          } else if (!self.pending) { setStatus(self.status, body.message || t.saved, "saved"); }
          updateProgress(body.answered);
          updateStepCount(self.form);
        } else {
          var text = body.message || t.failed;
          if (body.errors) {
            Object.keys(body.errors).forEach(function (k) { text += " — " + body.errors[k].join(" "); });
          }
          setStatus(self.status, text, "error");
        }
        if (self.pending) { self.send(); }
      });
    }).catch(function () {
      // Network failure: keep the change and try again, never claim it was saved.
      self.inFlight = false;
      self.pending = true;
      setStatus(self.status, t.offline, "error");
      setTimeout(function () { if (self.pending && !self.inFlight) { self.send(); } }, self.retryDelay);
      self.retryDelay = Math.min(self.retryDelay * 2, 30000);
    });
  };

  document.querySelectorAll("form.step-form").forEach(function (form) {
    form.querySelectorAll("fieldset.practice[data-autosave-url]").forEach(function (fieldset) {
      var saver = new Saver(fieldset, form);
      var timer = null;
      fieldset.addEventListener("change", function () { clearTimeout(timer); saver.touch(); saver.schedule(); });
      fieldset.addEventListener("input", function (event) {
        if (event.target.tagName !== "TEXTAREA") { return; }
        saver.touch();
        clearTimeout(timer);
        timer = setTimeout(function () { saver.schedule(); }, 700);
      });
    });
  });

  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (form.dataset.sent) { return; }
      form.dataset.sent = "1";
      if (button) { setTimeout(function () { button.disabled = true; }, 0); }
    });
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      input.select();
      var done = function () { button.textContent = button.getAttribute("data-copied"); };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
