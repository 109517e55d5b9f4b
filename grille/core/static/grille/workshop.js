// Workshop page: the live part follows the room (live.js), every 4 seconds.
(function () {
  "use strict";
  var live = document.getElementById("workshop-live");
  if (live && window.GrilleLive) { window.GrilleLive.follow(live, { interval: 4000 }); }
})();
