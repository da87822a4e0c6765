/* Security keys and passkeys (WebAuthn) on the two-step sign-in pages. The server makes the
   options and checks the answers (palier/identity/mfa/keys.py); this file only carries them
   between the browser's authenticator and the server. Without it the codes still work. */
(function () {
  "use strict";

  if (!window.PublicKeyCredential) {
    return;
  }

  function bytes(value) {
    var text = atob(value.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((value.length + 3) % 4));
    return Uint8Array.from(text, function (c) { return c.charCodeAt(0); }).buffer;
  }

  function text(buffer) {
    var out = "";
    new Uint8Array(buffer).forEach(function (b) { out += String.fromCharCode(b); });
    return btoa(out).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(o) {
    o.challenge = bytes(o.challenge);
    o.user.id = bytes(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
    return o;
  }

  function requestOptions(o) {
    o.challenge = bytes(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
    return o;
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = { id: cred.id, rawId: text(cred.rawId), type: cred.type, clientExtensionResults: {},
      response: { clientDataJSON: text(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = text(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = text(r.authenticatorData);
      out.response.signature = text(r.signature);
      out.response.userHandle = r.userHandle ? text(r.userHandle) : null;
    }
    return out;
  }

  function post(url, box, body) {
    var token = box.querySelector("input[name=csrfmiddlewaretoken]").value;
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || response.statusText); }
        return data;
      });
    });
  }

  function fail(box) {
    return function (error) {
      box.querySelector("#key-error").textContent = error.message || String(error);
    };
  }

  var register = document.getElementById("key-register");
  if (register) {
    register.hidden = false;
    register.addEventListener("submit", function (event) {
      event.preventDefault();
      register.querySelector("#key-error").textContent = "";
      post(register.dataset.options, register).then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      }).then(function (credential) {
        return post(register.dataset.register, register, {
          name: register.querySelector("#key-name").value, credential: credentialJSON(credential) });
      }).then(function (data) { window.location.assign(data.next); }).catch(fail(register));
    });
  }

  var verify = document.getElementById("key-verify");
  if (verify) {
    verify.hidden = false;
    verify.querySelector("#key-verify-button").addEventListener("click", function () {
      verify.querySelector("#key-error").textContent = "";
      var remember = document.getElementById("id_remember");
      post(verify.dataset.options, verify).then(function (options) {
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      }).then(function (credential) {
        return post(verify.dataset.verify, verify, { credential: credentialJSON(credential),
          next: verify.dataset.next, remember: Boolean(remember && remember.checked) });
      }).then(function (data) { window.location.assign(data.next); }).catch(fail(verify));
    });
  }
}());
