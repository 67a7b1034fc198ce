/* Own behaviour on top of htmx, loaded as a file so the Content-Security-Policy can forbid inline
   scripts. Without JavaScript every page still works through plain form posts. */
(function () {
  "use strict";

  // After htmx swaps in a new card, move focus to its heading (keyboard and screen-reader users land on
  // the new content) and announce the result through the page's polite live region.
  document.addEventListener("htmx:afterSettle", function () {
    var card = document.getElementById("card");
    if (!card) { return; }
    var heading = document.getElementById("card-title");
    if (heading) { heading.focus({ preventScroll: false }); }
    var announcer = document.getElementById("announcer");
    var message = card.getAttribute("data-announce");
    if (announcer && message) {
      announcer.textContent = "";
      window.setTimeout(function () { announcer.textContent = message; }, 100);
    }
  });

  function enhance() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
