// Guided workshop: arrow keys for the previous and next practice, a ticking timer, and, on the
// members' follow page, the live part fetched again every few seconds (live.js).
// Without this script every page still works: buttons, links and an « Actualiser » link.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Arrow keys: the page's own previous/next control, a button (facilitator) or a link.
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) { return; }
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) { return; }
    var selector = event.key === "ArrowLeft" ? "[data-guided-prev]" : event.key === "ArrowRight" ? "[data-guided-next]" : null;
    if (!selector) { return; }
    var control = document.querySelector(selector);
    if (!control) { return; }
    event.preventDefault();
    control.click();
  });

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var rest = s % 60;
    return Math.floor(s / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-timer]").forEach(function (timer) {
      if (timer.getAttribute("data-running") !== "true") { return; }
      if (!timer.hasAttribute("data-t0")) { timer.setAttribute("data-t0", String(now)); }
      var seconds = parseInt(timer.getAttribute("data-seconds"), 10) + (now - parseInt(timer.getAttribute("data-t0"), 10)) / 1000;
      var value = timer.querySelector("[data-timer-value]");
      if (value) { value.textContent = clock(seconds); }
      var planned = parseInt(timer.getAttribute("data-planned"), 10);
      if (planned && seconds > planned && !timer.classList.contains("is-over")) {
        timer.classList.add("is-over");
        var over = timer.querySelector("[data-timer-over]");
        if (over) { over.textContent = timer.getAttribute("data-over-label"); }
      }
    });
  }
  tick();
  setInterval(tick, 1000);

  var live = document.getElementById("guided-live");
  if (!live || !window.GrilleLive) { return; }
  var announce = document.querySelector("[data-guided-announce]");

  // The timer's figures change at every fetch: they do not count as a change of the screen.
  function steady(html) {
    return html.replace(/data-seconds="\d+"/g, "").replace(/<span class="guided-clock" data-timer-value>[^<]*<\/span>/g, "");
  }
  function position(root) {
    var screen = root.querySelector("[data-position]");
    return screen ? screen.getAttribute("data-position") : "";
  }
  // The live part follows the room (live.js); a change of practice is announced.
  var shown = position(live);
  window.GrilleLive.follow(live, {
    interval: 3000,
    steady: steady,
    onSwap: function () {
      tick();
      if (announce && position(live) !== shown) {
        var title = live.querySelector("h2");
        announce.textContent = title ? title.textContent.replace(/\s+/g, " ").trim() : "";
      }
      shown = position(live);
    }
  });
})();
