// The login's second step: "Use a passkey" asks the authenticator and submits its answer.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("use-passkey");
  if (!button) return;
  const form = document.getElementById("second-factor");
  button.addEventListener("click", async () => {
    const base = form.dataset.api;
    try {
      const options = await RosterWebAuthn.api("POST", `${base}passkeys/login/options/`);
      const credential = await RosterWebAuthn.get(options.body);
      form.querySelector("input[name=credential]").value = JSON.stringify(credential);
      form.submit();
    } catch (error) {
      document.getElementById("passkey-error").textContent = `The passkey did not answer: ${error.message}`;
    }
  });
});
