// A live part of a page (the workshop's team map, the guided workshop followed by members):
// its fragment is fetched again every few seconds and swapped in when it changed, so that a
// projected or followed page keeps up with the room. When the person no longer has access
// (removed from the structure: 404, or refused: 403) or their session ended (the fetch lands on
// the sign-in page), the live part is replaced by a message taken from its data attributes
// (data-gone-* or data-signed-out-*) and the refreshing stops.
// GrilleLive.follow(element, {interval, steady, onSwap}): `steady(html)` is what counts as a
// change (default: the whole fragment); `onSwap()` runs after each swap.
(function () {
  "use strict";

  function stop(live, kind) {
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

  function follow(live, options) {
    var url = live.getAttribute("data-live-url");
    var interval = options.interval || 4000;
    var steady = options.steady || function (html) { return html; };
    var last = steady(live.innerHTML);

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
            stop(live, result.end);
            return;
          }
          if (result.html !== undefined && steady(result.html) !== last) {
            live.innerHTML = result.html;
            last = steady(result.html);
            if (options.onSwap) { options.onSwap(); }
          }
          setTimeout(refresh, interval);
        });
    }
    setTimeout(refresh, interval);
  }

  window.GrilleLive = { follow: follow };
})();
