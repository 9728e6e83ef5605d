// The notifications page, live: while the server's event stream (`/notifications/stream`,
// Server-Sent Events over the cookie session) is open, each `notification` / `unread` event
// reloads the inbox list through htmx (the `ml-refresh` trigger of #inbox) and the list's
// own polling is skipped. Without EventSource, or while the stream is down or refused, the
// polling (`every 15s`) goes on. A served file, not inline script: the CSP allows no other.
(function () {
  "use strict";
  var source = null;
  var live = false;     // the stream is open: the polling request is skipped
  var wanted = false;   // the next #inbox request is the stream's refresh, not a poll

  function inbox() { return document.getElementById("inbox"); }

  function refresh() {
    var box = inbox();
    if (box && window.htmx) { wanted = true; window.htmx.trigger(box, "ml-refresh"); }
  }

  function close() {
    if (source) { source.close(); }
    source = null;
    live = false;
  }

  function sync() {
    var box = inbox();
    var url = box && box.getAttribute("data-stream");
    if (!url || !window.EventSource) { close(); return; }
    if (source && source.readyState !== EventSource.CLOSED) { return; }
    // (Re)open: on the page's first load, and after a poll when the stream was refused
    // (e.g. an expired access cookie, which that poll has renewed).
    source = new EventSource(url);
    source.addEventListener("open", function () { live = true; });
    source.addEventListener("error", function () { live = false; });
    source.addEventListener("notification", refresh);
    source.addEventListener("unread", refresh);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === "inbox") {
      if (live && !wanted) { event.preventDefault(); }
      wanted = false;
    }
  });
  // After every swap (boosted navigation away from the page closes the stream).
  document.addEventListener("htmx:afterSettle", sync);
  document.addEventListener("DOMContentLoaded", sync);
  window.addEventListener("pagehide", close);
}());
