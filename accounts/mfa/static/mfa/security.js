// /accounts/security/: TOTP and passkeys through Roster's API, with this browser's session.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const page = document.getElementById("security");
  const base = page.dataset.api;
  const $ = (id) => document.getElementById(id);
  const show = (id, visible) => { $(id).hidden = !visible; };
  const say = (text, bad = true) => {
    $("message").textContent = text;
    $("message").className = bad ? "error" : "ok";
  };

  // An API call; a "reauthentication_required" answer asks for the password, then retries.
  const call = async (method, path, body) => {
    let answer = await RosterWebAuthn.api(method, base + path, body);
    if (answer.status === 401 && answer.body && answer.body.code === "reauthentication_required") {
      await reauthenticate();
      answer = await RosterWebAuthn.api(method, base + path, body);
    }
    if (answer.status >= 400) {
      const errors = answer.body && answer.body.errors;
      const first = errors ? Object.values(errors)[0][0] : null;
      throw new Error(first || (answer.body && answer.body.detail) || `HTTP ${answer.status}`);
    }
    return answer.body;
  };

  const reauthenticate = () => new Promise((resolve, reject) => {
    show("reauth", true);
    $("reauth-password").focus();
    $("reauth-form").onsubmit = async (event) => {
      event.preventDefault();
      const answer = await RosterWebAuthn.api("POST", `${base}reauthenticate/`, {
        password: $("reauth-password").value,
      });
      $("reauth-password").value = "";
      // A browser session is marked (204, no tokens); 200 would be a token session's new pair.
      if (answer.status === 204 || answer.status === 200) {
        $("reauth-error").textContent = "";
        show("reauth", false);
        resolve();
      } else {
        $("reauth-error").textContent = "That password is not correct.";
        if (answer.status === 429) reject(new Error("Too many attempts; try again later."));
      }
    };
  });

  const showCodes = (codes) => {
    if (!codes || !codes.length) return;
    $("codes-list").replaceChildren(...codes.map((code) => {
      const item = document.createElement("li");
      item.textContent = code;
      return item;
    }));
    show("codes", true);
  };

  const refresh = async () => {
    const state = await call("GET", "mfa/");
    $("totp-state").textContent = state.totp ? "On" : "Off";
    show("totp-enable", !state.totp);
    show("totp-disable", state.totp);
    $("codes-left").textContent = state.recovery_codes_left;
    $("passkey-list").replaceChildren(...state.passkeys.map((passkey) => {
      const item = document.createElement("li");
      item.className = "passkey";
      const name = document.createElement("span");
      name.textContent = passkey.name;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.className = "secondary";
      remove.onclick = () => run(async () => {
        await call("DELETE", `passkeys/${passkey.id}/`);
        say(`Removed the passkey “${passkey.name}”.`, false);
      });
      item.append(name, " ", remove);
      return item;
    }));
    show("no-passkeys", !state.passkeys.length);
    show("codes-new", state.totp || state.passkeys.length > 0);
  };

  const run = async (action) => {
    try {
      await action();
      await refresh();
    } catch (error) {
      say(error.message);
    }
  };

  $("totp-enable").onclick = () => run(async () => {
    const enrolment = await call("POST", "mfa/totp/");
    $("totp-qr").innerHTML = enrolment.qr_svg; // Roster's own SVG (segno): no script in it
    $("totp-secret").textContent = enrolment.secret;
    show("totp-setup", true);
    $("totp-code").focus();
  });
  $("totp-confirm").onsubmit = (event) => {
    event.preventDefault();
    run(async () => {
      const answer = await call("POST", "mfa/totp/confirm/", { code: $("totp-code").value });
      $("totp-code").value = "";
      show("totp-setup", false);
      showCodes(answer.recovery_codes);
      say("TOTP is on.", false);
    });
  };
  $("totp-disable").onclick = () => run(async () => {
    await call("DELETE", "mfa/totp/");
    say("TOTP is off.", false);
  });
  $("codes-new").onclick = () => run(async () => {
    showCodes((await call("POST", "mfa/recovery-codes/")).recovery_codes);
    say("New recovery codes: the old ones no longer work.", false);
  });
  $("passkey-form").onsubmit = (event) => {
    event.preventDefault();
    run(async () => {
      const options = await call("POST", "passkeys/register/options/");
      const credential = await RosterWebAuthn.create(options);
      const created = await call("POST", "passkeys/register/", {
        credential,
        name: $("passkey-name").value || "Passkey",
      });
      $("passkey-name").value = "";
      showCodes(created.recovery_codes);
      say(`Added the passkey “${created.name}”.`, false);
    });
  };

  refresh().catch((error) => say(error.message));
});
