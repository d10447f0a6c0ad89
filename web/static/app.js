// Bring the cited sentence (article page), or the preview or error (Add page), into view
// and move keyboard focus to it. Runs after "load", when the browser has finished its
// own jump to the #c<chunk> anchor.
(function () {
  "use strict";
  function reveal() {
    var el = document.getElementById("hl") || document.getElementById("preview") ||
      document.getElementById("add-error");
    if (!el) return;
    el.scrollIntoView({ block: el.id === "hl" ? "center" : "start" });
    el.focus({ preventScroll: true });
  }
  if (document.readyState === "complete") {
    reveal();
  } else {
    window.addEventListener("load", reveal);
  }
})();
