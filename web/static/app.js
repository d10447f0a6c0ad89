// Article page: bring the cited sentence into view and move keyboard focus to it. Runs
// after "load", when the browser has finished its own jump to the #c<chunk> anchor.
(function () {
  "use strict";
  function reveal() {
    var mark = document.getElementById("hl");
    if (!mark) return;
    mark.scrollIntoView({ block: "center" });
    mark.focus({ preventScroll: true });
  }
  if (document.readyState === "complete") {
    reveal();
  } else {
    window.addEventListener("load", reveal);
  }
})();
