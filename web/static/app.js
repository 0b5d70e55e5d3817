// The few lines of script the pages need; every page works without them.
(function () {
  // A form sends once: a double click cannot post twice (the idempotency key covers the rest).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });
  // The receipt form: the communes of the chosen province, valid today.
  document.querySelectorAll("select[data-communes]").forEach(function (province) {
    province.addEventListener("change", function () {
      var communes = document.getElementById(province.dataset.communes);
      fetch("/web/counter/communes?province=" + encodeURIComponent(province.value), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (list) {
          communes.innerHTML = "";
          list.forEach(function (c) { communes.add(new Option(c.name, c.code)); });
        });
    });
  });
  // The slip's QR code carries the code and secret after '#': never sent to the server, filled in here.
  var lookup = document.getElementById("lookup");
  if (lookup && location.hash.length > 1) {
    var params = new URLSearchParams(location.hash.slice(1));
    if (params.get("code")) lookup.elements.code.value = params.get("code");
    if (params.get("secret")) lookup.elements.secret.value = params.get("secret");
  }
})();
