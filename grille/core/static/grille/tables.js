// A table wider than its box scrolls inside its region (.table-scroll, a named and focusable
// role="region"), never the page. This says so in words, « ← faites défiler → », above the
// table whenever it does not fit, and only then; the words come from the page (data-hint on
// this script's tag), so they follow its language. Without JavaScript the shadows drawn by
// app.css at the edges that hide columns remain the cue.
(function () {
  "use strict";
  var script = document.currentScript;
  var hint = script ? script.getAttribute("data-hint") : "";
  if (!hint) { return; }

  function cueOf(region) {
    var cue = region.firstElementChild;
    if (cue && cue.classList.contains("scroll-cue")) { return cue; }
    // Inside the region, kept in view by position: sticky (app.css), so that it takes no grid
    // cell of its own where the table sits beside a chart.
    cue = document.createElement("p");
    cue.className = "scroll-cue";
    cue.setAttribute("aria-hidden", "true");
    cue.textContent = hint;
    cue.hidden = true;
    region.insertBefore(cue, region.firstChild);
    return cue;
  }

  function update(region) {
    var cue = cueOf(region);
    var scrolls = region.scrollWidth > region.clientWidth + 1;
    if (cue.hidden === scrolls) { cue.hidden = !scrolls; }
  }

  var observer = "ResizeObserver" in window ? new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var region = entry.target.closest(".table-scroll");
      if (region) { update(region); }
    });
  }) : null;
  var watched = [];

  function scan() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-scroll"), function (region) {
      update(region);
      if (observer && watched.indexOf(region) === -1) {
        watched.push(region);
        observer.observe(region);
        if (region.querySelector("table")) { observer.observe(region.querySelector("table")); }
      }
    });
    watched = watched.filter(function (region) { return document.contains(region); });
  }

  scan();
  if (!observer) { window.addEventListener("resize", scan); }
  // Pages that swap parts in (the workshop's live view) bring new tables.
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; scan(); });
  }).observe(document.body, { childList: true, subtree: true });
})();
