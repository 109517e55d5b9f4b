// Progressive enhancement only: every page works without this file.
// - Questionnaire: each practice is saved as soon as it changes; the status
//   says « Enregistré » only once the server has acknowledged the save.
// - Forms marked data-submit-once: the button is disabled after the first click.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Texts come from the page (data-msg-* on the step form), translated by the template.
  function texts(form) {
    return {
      saving: form.dataset.msgSaving, saved: form.dataset.msgSaved, failed: form.dataset.msgFailed,
      offline: form.dataset.msgOffline, server: form.dataset.msgServer,
      signin: form.dataset.msgSignin, restored: form.dataset.msgRestored
    };
  }

  // Changes not yet acknowledged by the server, per positioning and practice (the
  // autosave address names both): kept for this tab across a sign-in, sent again on return.
  var storePrefix = "grille.autosave:";
  function readStored(key) {
    try { return JSON.parse(window.sessionStorage.getItem(storePrefix + key) || "null"); } catch (e) { return null; }
  }
  function writeStored(key, value) {
    try {
      if (value) { window.sessionStorage.setItem(storePrefix + key, JSON.stringify(value)); } else { window.sessionStorage.removeItem(storePrefix + key); }
    } catch (e) { /* Storage off or full: the answer still stays in the page. */ }
  }

  // Once the session or the CSRF token is refused, no save can succeed from this page:
  // every practice keeps its change and the page says how to sign in again.
  var signedOut = false;
  function showSignIn() {
    signedOut = true;
    var alert = document.querySelector("[data-autosave-alert]");
    if (alert && alert.hidden) { alert.hidden = false; }
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setStatus(el, text, state) {
    el.textContent = text;
    el.classList.toggle("is-saved", state === "saved");
    el.classList.toggle("is-error", state === "error");
  }

  // The sentence for each count is written by the server (data-progress-texts, one per count
  // from 0 to the total), so its plural follows the page's language: « 1 pratique renseignée ».
  function updateProgress(answered) {
    var bar = document.getElementById("progress");
    var text = document.getElementById("progress-text");
    if (bar) { bar.value = answered; bar.textContent = answered + " / " + bar.max; }
    if (!text) { return; }
    var sentences = [];
    try { sentences = JSON.parse(text.getAttribute("data-progress-texts") || "[]"); } catch (e) { sentences = []; }
    if (typeof sentences[answered] === "string") { text.textContent = sentences[answered]; }
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
    this.t = texts(form);
    this.url = fieldset.getAttribute("data-autosave-url");
    this.status = fieldset.querySelector("[data-save-status]");
    this.inFlight = false;
    this.pending = false;
    this.failing = false;
    this.retryDelay = 1000;
    this.retryTimer = null;
    this.editedAt = 0;
  }
  Saver.prototype.touch = function () {
    // Strictly increasing, even for two changes within one millisecond.
    this.editedAt = Math.max(Date.now(), this.editedAt + 1);
    writeStored(this.url, { values: this.values(), editedAt: this.editedAt });
  };
  Saver.prototype.show = function (values) {
    this.fieldset.querySelectorAll("input, textarea").forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(values, el.name)) { return; }
      if (el.type === "radio") { el.checked = values[el.name] === el.value; } else { el.value = values[el.name]; }
    });
  };
  Saver.prototype.values = function () {
    var values = {};
    this.fieldset.querySelectorAll("input, textarea").forEach(function (el) {
      if (el.type === "radio" && !el.checked) { return; }
      values[el.name] = el.value;
    });
    return values;
  };
  Saver.prototype.payload = function () {
    var data = new URLSearchParams();
    var values = this.values();
    Object.keys(values).forEach(function (name) { data.append(name, values[name]); });
    if (this.editedAt) { data.append("edited_at", String(this.editedAt)); }
    return data;
  };
  // A change kept before a sign-in: shown again in the page, then sent.
  Saver.prototype.restore = function () {
    var stored = readStored(this.url);
    if (!stored || !stored.values) { return; }
    this.show(stored.values);
    this.editedAt = Number(stored.editedAt) || 0;
    this.failing = true;
    setStatus(this.status, this.t.restored, "error");
    this.schedule();
  };
  Saver.prototype.schedule = function () {
    this.pending = true;
    if (signedOut) { setStatus(this.status, this.t.signin, "error"); return; }
    if (!this.inFlight && !this.retryTimer) { this.send(); }
  };
  // 5xx and network failures: the change is kept and sent again, 1 s, 2 s, 4 s… up to 30 s apart.
  Saver.prototype.retryLater = function (text) {
    var self = this;
    self.pending = true;
    self.failing = true;
    setStatus(self.status, text, "error");
    clearTimeout(self.retryTimer);
    self.retryTimer = setTimeout(function () {
      self.retryTimer = null;
      if (self.pending && !self.inFlight && !signedOut) { self.send(); }
    }, self.retryDelay);
    self.retryDelay = Math.min(self.retryDelay * 2, 30000);
  };
  Saver.prototype.send = function () {
    var self = this;
    var sentEditedAt = self.editedAt;
    self.pending = false;
    self.inFlight = true;
    // « Non enregistré » stays on screen until the server acknowledges.
    if (!self.failing) { setStatus(self.status, self.t.saving, "saving"); }
    fetch(self.url, {
      method: "POST",
      body: self.payload(),
      headers: { "X-CSRFToken": csrfToken(self.form), "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      var isJson = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      return (isJson ? response.json() : Promise.reject()).catch(function () { return null; }).then(function (body) {
        self.inFlight = false;
        if (response.status >= 500) {
          self.retryLater(self.t.server);
          return;
        }
        if (!body && (response.ok || response.status === 403 || response.status === 404)) {
          // A refused CSRF token (403) or a lost session (the positioning no longer
          // visible, or a page instead of an answer): sign in again, nothing is lost.
          self.pending = true;
          setStatus(self.status, self.t.signin, "error");
          showSignIn();
          return;
        }
        if (!body) {
          // Another refusal without an explanation: not saved, and kept for a later try.
          setStatus(self.status, self.t.failed, "error");
          return;
        }
        self.failing = false;
        self.retryDelay = 1000;
        // The server's answer settles this change: it no longer needs keeping.
        if (self.editedAt === sentEditedAt) { writeStored(self.url, null); }
        if (response.ok && body.ok) {
          // The stored answer's edit stamp: the next save (and the step form) is made on it.
          var version = typeof body.version === "number" ? body.version : (body.stale ? 0 : sentEditedAt);
          if (version) {
            self.fieldset.querySelectorAll("input[type=hidden][name$=version]").forEach(function (el) { el.value = String(version); });
          }
          // Shown only if nothing was changed here since: a newer change then wins.
          if (body.stale && body.values && !self.pending && self.editedAt === sentEditedAt) {
            self.show(body.values);
            setStatus(self.status, body.message, "stale");
          } else if (!self.pending) { setStatus(self.status, body.message || self.t.saved, "saved"); }
          updateProgress(body.answered);
          updateStepCount(self.form);
        } else {
          var text = body.message || self.t.failed;
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
      self.retryLater(self.t.offline);
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
      saver.restore();
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
