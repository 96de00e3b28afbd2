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

// Copy buttons: a shortened id or hash (views.Ident) carries its full value in
// data-copy. The buttons are hidden until this script runs, since without it
// they could do nothing; the full value stays in the title either way.
function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  var ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.style.position = "fixed";
  ta.style.opacity = "0";
  document.body.appendChild(ta);
  ta.select();
  try { document.execCommand("copy"); } finally { document.body.removeChild(ta); }
  return Promise.resolve();
}
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.copy[data-copy]").forEach(function (b) { b.hidden = false; });
});
document.addEventListener("click", function (e) {
  var b = e.target.closest && e.target.closest("button.copy[data-copy]");
  if (!b) {
    return;
  }
  copyText(b.getAttribute("data-copy")).then(function () {
    b.textContent = "Copied";
    b.classList.add("copied");
    setTimeout(function () { b.textContent = "Copy"; b.classList.remove("copied"); }, 1500);
  });
});
