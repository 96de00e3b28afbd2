// dcrconsole: passkeys (WebAuthn). Drives the forms marked data-passkey:
// "register" adds a passkey to the signed-in account, "primary" signs in with
// a passkey alone, "signin" gives a passkey as the second factor. Each asks the
// server to begin a ceremony (data-begin), lets the browser create or use the
// passkey, and sends the answer to data-finish; the server answers with where
// to go next. No framework, no inline script (the console's CSP forbids it).
(function () {
  "use strict";

  function toBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toB64u(buf) {
    if (!buf) { return ""; }
    var b = new Uint8Array(buf), s = "";
    for (var i = 0; i < b.length; i++) { s += String.fromCharCode(b[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, body, type) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": type, "Accept": "application/json" }
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { throw new Error(j.error || ("The server answered " + r.status + ".")); }
        return j;
      });
    });
  }

  function descriptors(list) {
    (list || []).forEach(function (d) { d.id = toBuf(d.id); });
  }

  function create(options) {
    var pk = options.publicKey || options;
    pk.challenge = toBuf(pk.challenge);
    pk.user.id = toBuf(pk.user.id);
    descriptors(pk.excludeCredentials);
    return navigator.credentials.create({ publicKey: pk }).then(function (c) {
      return {
        id: c.id, rawId: toB64u(c.rawId), type: c.type,
        clientExtensionResults: c.getClientExtensionResults(),
        response: {
          attestationObject: toB64u(c.response.attestationObject),
          clientDataJSON: toB64u(c.response.clientDataJSON),
          transports: c.response.getTransports ? c.response.getTransports() : []
        }
      };
    });
  }

  function get(options) {
    var pk = options.publicKey || options;
    pk.challenge = toBuf(pk.challenge);
    descriptors(pk.allowCredentials);
    return navigator.credentials.get({ publicKey: pk }).then(function (c) {
      return {
        id: c.id, rawId: toB64u(c.rawId), type: c.type,
        clientExtensionResults: c.getClientExtensionResults(),
        response: {
          authenticatorData: toB64u(c.response.authenticatorData),
          clientDataJSON: toB64u(c.response.clientDataJSON),
          signature: toB64u(c.response.signature),
          userHandle: toB64u(c.response.userHandle)
        }
      };
    });
  }

  function run(form) {
    var mode = form.getAttribute("data-passkey");
    var status = form.querySelector(".passkey-status");
    var button = form.querySelector("button");
    var say = function (msg) { if (status) { status.textContent = msg; } };
    if (!window.PublicKeyCredential) {
      say("This browser does not support passkeys.");
      return;
    }
    var begin = new URLSearchParams();
    if (form.elements.name) { begin.set("name", form.elements.name.value); }
    button.disabled = true;
    say("Waiting for your passkey…");
    post(form.getAttribute("data-begin"), begin.toString(), "application/x-www-form-urlencoded")
      .then(function (c) {
        var ceremony = mode === "register" ? create(c.options) : get(c.options);
        return ceremony.then(function (answer) {
          var url = form.getAttribute("data-finish") + "?ceremony=" + encodeURIComponent(c.ceremony) +
            "&next=" + encodeURIComponent(form.getAttribute("data-next") || "");
          return post(url, JSON.stringify(answer), "application/json");
        });
      })
      .then(function (r) {
        say("Done.");
        window.location.assign(r.redirect || "/console/");
      })
      .catch(function (err) {
        button.disabled = false;
        say(err && err.name === "NotAllowedError" ? "The passkey request was cancelled or timed out." : (err.message || String(err)));
      });
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.getAttribute && form.getAttribute("data-passkey")) {
      e.preventDefault();
      run(form);
    }
  });
}());
