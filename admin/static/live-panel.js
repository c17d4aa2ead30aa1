// Re-reads the server-rendered live panel on every relayed engine event (and on connecting). A part with an
// unchanged data-key (the call card being filled in) is kept as it is.
(function () {
  "use strict";
  var root = document.getElementById("live-panel");
  if (!root || !window.EventSource) { return; }
  var busy = false, again = false;

  function apply(html) {
    var fresh = document.createElement("div");
    fresh.innerHTML = html;
    Array.prototype.slice.call(fresh.children).forEach(function (part) {
      var old = part.id ? document.getElementById(part.id) : null;
      if (!old) { root.appendChild(part); return; }
      if (part.dataset.key && part.dataset.key === old.dataset.key) { return; }
      old.replaceWith(part);
    });
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(root.dataset.panelUrl, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(apply)
      .catch(function () { /* the next event retries */ })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }

  var source = new EventSource(root.dataset.eventsUrl);
  source.onopen = refresh;  // catch up with what changed before (re)connecting
  source.onmessage = refresh;
})();
