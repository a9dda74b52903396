// After a form is sent, focus and view land on what happened: the error summary, or the
// confirmation, marked data-focus-on-load by the page. `autofocus` alone does not do it inside an
// LMS's frame from another site, where browsers ignore it.
(function () {
  "use strict";
  var outcome = document.querySelector("[data-focus-on-load]");
  if (!outcome) return;
  outcome.focus({ preventScroll: true });
  outcome.scrollIntoView({ block: "start" });
})();
