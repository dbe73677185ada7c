// The authentication page: ask the server about this flow until the card has
// signed (or the challenge ran out), then move on. Without JavaScript the page
// offers a link that does the same by hand.
(function () {
  "use strict";
  var status = document.getElementById("auth-status");
  if (!status) { return; }
  var url = status.getAttribute("data-status-url");
  var timer = null;

  function schedule(ms) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(poll, ms);
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s && s.state !== "pending" && s.next) {
          window.location.assign(s.next);
        } else {
          schedule(1000);
        }
      })
      .catch(function () { schedule(3000); });
  }

  // Coming back from the authenticator app: look at once.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { schedule(0); }
  });
  schedule(1000);
})();
