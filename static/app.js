// dcrconsole: the little JavaScript the console uses. Every action works without it.
// Confirmations: a form with data-confirm asks before it submits; the server
// still requires the typed confirmation, so this only saves a round trip.
document.addEventListener("submit", function (e) {
  var form = e.target;
  var msg = form.getAttribute && form.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    e.preventDefault();
  }
});
