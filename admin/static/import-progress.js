// Polls the import job and reloads the page once it has finished.
(function () {
  var box = document.getElementById("import-status");
  if (!box || box.dataset.state === "done" || box.dataset.state === "failed") return;
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (job) {
        box.querySelector("progress").value = job.percent;
        box.querySelector(".percent").textContent = job.percent + "%";
        if (job.state === "done" || job.state === "failed") { window.location.reload(); }
        else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
