// The authentication page: ask the server about this flow until the card has
// signed (or the challenge ran out), then move on. The server holds each request
// until the state changes (long poll), so the page moves within about a second
// of the card being read, on this device or another. Without JavaScript the
// page offers a link that does the same by hand.
(function () {
  "use strict";
  var status = document.getElementById("auth-status");
  if (!status) { return; }
  var url = status.getAttribute("data-status-url");
  var claimedText = status.getAttribute("data-claimed-text");
  var seen = "pending";
  var timer = null;
  var inFlight = false;

  function schedule(ms) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(poll, ms);
  }

  function poll() {
    if (inFlight) { return; }
    inFlight = true;
    fetch(url + "?wait=" + encodeURIComponent(seen), {
      headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store"
    })
      .then(function (r) {
        // Gone (the flow ran out, its URL was changed, its result was closed):
        // show the page that says so.
        if (r.status === 410) { window.location.reload(); return undefined; }
        return r.ok ? r.json() : null;
      })
      .then(function (s) {
        inFlight = false;
        if (s === undefined) { return; }
        if (!s) { schedule(3000); return; }
        if (s.state === "claimed") {
          // An authenticator (a phone that scanned the code) has the request.
          // When it was read shows, so the staff notice a reading that was not their patient's.
          if (s.claimedText || claimedText) { status.textContent = s.claimedText || claimedText; }
          // And a new reading can replace it at once.
          var renew = document.getElementById("auth-renew");
          if (renew) { renew.hidden = false; }
          seen = s.state;
          schedule(0);
        } else if (s.state !== "pending" && s.next) {
          window.location.assign(s.next);
        } else {
          seen = s.state;
          schedule(0);
        }
      })
      .catch(function () { inFlight = false; schedule(3000); });
  }

  // Coming back from the authenticator app: look at once.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { schedule(0); }
  });
  schedule(0);
})();
