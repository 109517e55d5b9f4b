// Workshop page: fetch the live part again every few seconds and swap it in
// without reloading, so the projected page follows the room.
// When the person no longer has access (removed from the structure: 404, or
// refused: 403) or their session ended (the fetch lands on the sign-in page),
// the team's figures are taken off the page, a message from the page's data
// attributes says why, and the refreshing stops.
(function () {
  "use strict";
  var live = document.getElementById("workshop-live");
  if (!live) { return; }
  var url = live.getAttribute("data-live-url");
  var last = live.innerHTML;

  function stop(kind) {
    var message = document.createElement("p");
    message.className = "workshop-gone big-text";
    message.setAttribute("role", "alert");
    message.textContent = live.getAttribute("data-" + kind + "-message");
    var link = document.createElement("a");
    link.href = live.getAttribute("data-" + kind + "-url");
    link.textContent = live.getAttribute("data-" + kind + "-link");
    var linkLine = document.createElement("p");
    linkLine.appendChild(link);
    live.replaceChildren(message, linkLine);
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 404 || response.status === 403) { return { end: "gone" }; }
        if (response.redirected) { return { end: "signed-out" }; }
        if (!response.ok) { return {}; }
        return response.text().then(function (html) { return { html: html }; });
      })
      .catch(function () { return {}; /* offline for a moment: try again at the next tick */ })
      .then(function (result) {
        if (result.end) {
          stop(result.end);
          return;
        }
        if (result.html !== undefined && result.html !== last) {
          live.innerHTML = result.html;
          last = result.html;
        }
        setTimeout(refresh, 4000);
      });
  }
  setTimeout(refresh, 4000);
})();
