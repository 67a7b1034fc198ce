/* Own behaviour on top of htmx, loaded as a file so the Content-Security-Policy can forbid inline
   scripts. Without JavaScript every page still works through plain form posts. */
(function () {
  "use strict";

  var speech = window.speechSynthesis && typeof window.speechSynthesis.speak === "function" &&
    typeof window.SpeechSynthesisUtterance === "function" ? window.speechSynthesis : null;

  // After htmx swaps in a new card, move focus to its heading (keyboard and screen-reader users land on
  // the new content) and announce the result through the page's polite live region.
  document.addEventListener("htmx:afterSettle", function () {
    var card = document.getElementById("card");
    if (!card) { return; }
    enhance(card);
    var heading = document.getElementById("card-title");
    if (heading) { heading.focus({ preventScroll: false }); }
    var announcer = document.getElementById("announcer");
    var message = card.getAttribute("data-announce");
    if (announcer && message) {
      announcer.textContent = "";
      window.setTimeout(function () { announcer.textContent = message; }, 100);
    }
  });

  // Read aloud: the browser's own speech, reading the parts of the card marked data-read in page
  // order. The button stays hidden where the browser cannot speak.
  function stopReading() {
    if (speech) { speech.cancel(); }
    document.querySelectorAll("[data-read-aloud]").forEach(function (button) {
      button.setAttribute("aria-pressed", "false");
      var label = button.querySelector("[data-read-label]");
      if (label) { label.textContent = "Read aloud"; }
    });
  }

  function readAloud(button) {
    var card = button.closest("#card") || document;
    var pressed = button.getAttribute("aria-pressed") === "true";
    stopReading();
    if (pressed) { return; }
    var parts = Array.prototype.map.call(card.querySelectorAll("[data-read]"), function (element) {
      return element.textContent.replace(/\s+/g, " ").trim();
    }).filter(Boolean);
    if (!parts.length) { return; }
    button.setAttribute("aria-pressed", "true");
    button.querySelector("[data-read-label]").textContent = "Stop reading";
    parts.forEach(function (text, index) {
      var utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = document.documentElement.lang || "en";
      utterance.rate = 0.9; // a little slower than the default: easier to follow
      if (index === parts.length - 1) { utterance.onend = stopReading; }
      speech.speak(utterance);
    });
  }

  // Text size: send the same form the page has in the background and change the size in place, so
  // the patient keeps their place (and any answer they have ticked). If that fails, the form is sent
  // the ordinary way.
  function chooseTextSize(form, button) {
    var data = new FormData(form);
    data.set("size", button.value);
    window.fetch(form.action, { method: "POST", body: data, credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (response.type !== "opaqueredirect" && !response.ok) { throw new Error(String(response.status)); }
        var root = document.documentElement;
        Array.prototype.slice.call(root.classList).forEach(function (name) {
          if (name.indexOf("text-") === 0) { root.classList.remove(name); }
        });
        root.classList.add("text-" + button.value);
        form.querySelectorAll("button[name=size]").forEach(function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
      })
      .catch(function () {
        form.setAttribute("data-plain", "");
        form.requestSubmit(button);
      });
  }

  function enhance(root) {
    root.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
    });
    if (speech) {
      root.querySelectorAll("[data-read-aloud]").forEach(function (button) {
        button.hidden = false;
        button.setAttribute("aria-pressed", "false");
      });
    }
  }

  document.addEventListener("click", function (event) {
    var print = event.target.closest("[data-print]");
    if (print) { window.print(); return; }
    var read = event.target.closest("[data-read-aloud]");
    if (read && speech) { readAloud(read); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("text-size") || form.hasAttribute("data-plain") || !window.fetch) { return; }
    var button = event.submitter;
    if (!button || button.name !== "size") { return; }
    event.preventDefault();
    chooseTextSize(form, button);
  });

  // Never keep talking over a new card or another page.
  document.addEventListener("htmx:beforeSwap", stopReading);
  window.addEventListener("pagehide", stopReading);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  } else {
    enhance(document);
  }
})();
