// The import page's progress bar: polls the job's status until it ends.
(function () {
  var box = document.getElementById("import-progress");
  var bar = document.getElementById("import-progress-bar");
  var text = document.getElementById("import-progress-text");
  function poll() {
    fetch(box.getAttribute("data-status-url"), {headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (job.state !== "running" && job.state !== "queued") { window.location.reload(); return; }
        bar.max = job.total || 1;
        bar.value = job.done;
        text.textContent = job.done + " of " + (job.total || "?") + " records";
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
