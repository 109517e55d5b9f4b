// Workshop page: fetch the live part again every few seconds and swap it in
// without reloading, so the projected page follows the room.
(function () {
  "use strict";
  var live = document.getElementById("workshop-live");
  if (!live) { return; }
  var url = live.getAttribute("data-live-url");
  var last = live.innerHTML;
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && html !== last) {
          live.innerHTML = html;
          last = html;
        }
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ })
      .then(function () { setTimeout(refresh, 4000); });
  }
  setTimeout(refresh, 4000);
})();
