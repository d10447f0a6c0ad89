// Bring the cited sentence (article page), or the preview or error (Add page), into view
// and move keyboard focus to it. Runs after "load", when the browser has finished its
// own jump to the #c<chunk> anchor.
(function () {
  "use strict";
  function reveal() {
    // A question that cannot be asked: focus goes to the field at fault, which the
    // message describes, so it is read with it (QA23b F11: focus stayed on the body).
    var problem = document.getElementById("q-problem");
    if (problem) {
      var field = document.querySelector('.ask-form [aria-invalid="true"]') ||
        document.querySelector('.ask-form [aria-describedby~="q-problem"] input');
      if (field) field.focus();
      return;
    }
    var answer = document.getElementById("answer");
    var results = document.getElementById("results");
    // A page of results the pager opened (#results), or a later one, which has no
    // answer: focus goes to the list the browser scrolled to, not back up to the answer.
    if (results && (window.location.hash === "#results" || !answer)) {
      results.focus({ preventScroll: true });
      return;
    }
    if (answer) {
      // A screen reader reads the answer next, not the page from the top; the page
      // does not scroll, so the question stays in view above it.
      answer.focus({ preventScroll: true });
      return;
    }
    // A notice in the page as it loads is not spoken as a live region would be: focus
    // reads it (QA23b F2: after Remove, Restore or Save, focus stayed on the body).
    var el = document.getElementById("hl") || document.getElementById("preview") ||
      document.getElementById("add-error") || document.getElementById("remove-error") ||
      document.getElementById("restore-error") || document.getElementById("saved-notice") ||
      document.getElementById("removed-notice") ||
      document.getElementById("concept-error") || document.getElementById("concept-saved") ||
      document.getElementById("concept-removed");
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

// The article page opened at a passage anchor (#c<id>) that names no passage: the server
// never sees the fragment, so the page opened at the top without a word (QA17). Say so
// as the server does for a citation link's passage, unless it already did.
(function () {
  "use strict";
  var doc = document.querySelector("article.doc");
  if (!doc) return;
  // A link made before links named their passage (?hl=a-b#c<id>, no p=): its article
  // offsets mark whatever stands there after an edit (QA18). The fragment names the
  // passage; asked again with it as p=, the server marks the quoted sentences where
  // they stand now, or says they are gone.
  var params = new URLSearchParams(window.location.search);
  var anchor = /^#c([0-9]+)$/.exec(window.location.hash);
  if (anchor && params.has("hl") && !params.has("p") && !params.has("hp")) {
    params.set("p", anchor[1]);
    window.location.replace(window.location.pathname + "?" + params.toString() +
                            window.location.hash);
    return;
  }
  function check() {
    var hash = window.location.hash;
    if (!/^#c[0-9]+$/.test(hash) || document.getElementById(hash.slice(1))) return;
    if (document.getElementById("stale-link") || document.getElementById("moved-link")) return;
    var note = document.createElement("p");
    note.className = "notice warn";
    note.id = "stale-link";
    note.setAttribute("role", "status");
    note.textContent = "The link you followed pointed to a passage this article no longer " +
      "has (its text has changed since the link was made), so the article opens at the top.";
    doc.insertBefore(note, doc.firstChild);
  }
  check();
  window.addEventListener("hashchange", check);  // a link within the page, or pasted
})();

// The Add page: say that a save is under way (a long article takes minutes: each of its
// passages and sentences is embedded), and ignore further clicks until the page changes.
(function () {
  "use strict";
  var form = document.getElementById("add-form");
  var status = document.getElementById("add-status");
  if (!form || !status) return;
  var busy = false;
  var file = document.getElementById("file");
  var limit = file ? Number(file.getAttribute("data-max-bytes")) : 0;
  function mb(n) { return (n / 1048576).toFixed(1).replace(/\.0$/, "") + " MB"; }
  form.addEventListener("submit", function (event) {
    if (busy) {
      event.preventDefault();
      return;
    }
    // A file over the limit is refused before it is sent: the server refuses it
    // unread, so the title and tags typed with it came back empty (QA13).
    var chosen = file && file.files && file.files[0];
    if (chosen && limit && chosen.size > limit) {
      event.preventDefault();
      status.textContent = chosen.name + " is " + mb(chosen.size) + "; the upload limit is " +
        mb(limit) + ". Nothing was sent: split the article, or raise the limit " +
        "(KB_MAX_UPLOAD_BYTES).";
      return;
    }
    busy = true;
    form.setAttribute("aria-busy", "true");
    var saving = event.submitter && event.submitter.value === "save";
    status.textContent = saving
      ? "Saving… every passage is embedded now; a long article can take a minute or more. Keep this page open."
      : "Reading the article…";
  });
  // Back/forward cache: a page restored after navigating away is ready again.
  window.addEventListener("pageshow", function () {
    busy = false;
    form.removeAttribute("aria-busy");
    status.textContent = "";
  });
})();

// The Add page after a preview of a file: choosing another file empties the text box and
// the title, id, source and tags that the preview filled in (unless they were edited), so
// the new file is read on its own; on the Edit page, the stored text. The server does the same for a page without JavaScript.
(function () {
  "use strict";
  var file = document.getElementById("file");
  var carried = document.getElementById("carried");
  if (!file) return;
  var filled = [
    [document.getElementById("text"), carried],
    [document.getElementById("title"), document.getElementById("auto-title")],
    [document.getElementById("id"), document.getElementById("auto-id")],
    [document.getElementById("source"), document.getElementById("auto-source")],
    [document.getElementById("tags"), document.getElementById("auto-tags")],
  ];
  file.addEventListener("change", function () {
    if (!file.files || !file.files.length) return;
    filled.forEach(function (pair) {
      var input = pair[0], marker = pair[1];
      if (input && marker && input.value === input.defaultValue) input.value = "";
    });
  });
})();

// The admin token, kept for this tab only: the server never writes it into a page (QA:
// a preview echoed it into the HTML), so a preview's Save, or a refused save, would ask
// for it again. It is kept when an Add, Edit, Remove or Restore form is sent, filled into
// an empty token field on the next page, and forgotten when the server says it is wrong.
// Without JavaScript it is typed again.
(function () {
  "use strict";
  var KEY = "kb-admin-token";
  var store;
  try {
    store = window.sessionStorage;
  } catch (e) {
    return; // storage blocked: the token is typed each time
  }
  if (!store) return;
  if (document.querySelector("[data-token-refused]")) store.removeItem(KEY);
  var kept = store.getItem(KEY);
  ["token", "remove-token", "concept-token", "restore-token"].forEach(function (id) {
    var field = document.getElementById(id);
    if (!field || !field.form) return;
    if (kept && !field.value) field.value = kept;
    field.form.addEventListener("submit", function () {
      if (field.value) store.setItem(KEY, field.value);
    });
  });
})();

// "/" moves to the Ask box (the page no longer autofocuses it: keyboard and screen
// reader users start at the skip link and the introduction). Only while focus is on no
// control: the page, the main content after the skip link, the answer or the results
// (QA23b F8, WCAG 2.1.4: "/" on a link or a chip, from a speech-input user, say, pulled
// focus away to the box). Typed in a field, or on a link, button or chip, it is left
// alone, to the field and the browser.
(function () {
  "use strict";
  var q = document.getElementById("q");
  if (!q) return;
  var CONTROLS = /^(A|AREA|BUTTON|INPUT|SELECT|SUMMARY|TEXTAREA|IFRAME)$/;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey ||
        event.defaultPrevented) return;
    var target = event.target;
    if (target && target !== document.body && (target.isContentEditable ||
        CONTROLS.test(target.tagName) || target.tabIndex >= 0)) return;
    event.preventDefault();
    q.focus();
  });
})();
