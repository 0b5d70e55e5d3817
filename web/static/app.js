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
  // The public form: the communes and one-stop sections of the chosen province; the applicant's
  // own commune's section chosen with the commune (another can still be chosen).
  document.querySelectorAll("select[data-places]").forEach(function (province) {
    var form = province.form;
    province.addEventListener("change", function () {
      fetch(province.dataset.places + "?province=" + encodeURIComponent(province.value), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (found) {
          form.elements.commune_code.innerHTML = "";
          found.communes.forEach(function (c) { form.elements.commune_code.add(new Option(c.name, c.code)); });
          form.elements.receiving_unit.innerHTML = "";
          found.receiving_units.forEach(function (u) {
            var option = new Option(u.name, u.code);
            option.dataset.commune = u.commune;
            form.elements.receiving_unit.add(option);
          });
          form.elements.commune_code.dispatchEvent(new Event("change"));
        });
    });
    form.elements.commune_code.addEventListener("change", function () {
      var commune = form.elements.commune_code.value;
      Array.prototype.forEach.call(form.elements.receiving_unit.options, function (option) {
        if (option.dataset.commune === commune) option.selected = true;
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
