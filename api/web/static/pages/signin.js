// The sign-in page: checks the token against /v1/me, keeps it in this tab's sessionStorage and
// returns to `next` — only a path of this service (a `next` naming another site, through `//`, a
// backslash, a tab or any encoding of them, goes to the overview instead). The form is a POST to
// /signin, so a form sent before this script runs never puts the token in a URL.
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  if (params.get("reason")) {
    const box = document.getElementById("reason");
    box.hidden = false;
    box.textContent = "You were signed out: " + params.get("reason") + ". Sign in again.";
  }
  const form = document.getElementById("signin");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(CT.TOKEN, form.token.value.trim());
    sessionStorage.removeItem(CT.ME);
    const response = await CT.api("/v1/me", { signOutOn401: false });
    if (!response.ok) {
      sessionStorage.removeItem(CT.TOKEN);
      CT.showErrors(form, { status: response.status, data: { detail: response.data.detail,
        errors: [{ field: "token", message: response.data.detail }] } });
      return;
    }
    sessionStorage.setItem(CT.ME, JSON.stringify(response.data));
    location.assign(sameOriginPath(params.get("next")));
  });

  // `next` as a path of this origin, or "/" when it could lead anywhere else.
  function sameOriginPath(next) {
    if (!next || !next.startsWith("/") || next.startsWith("//") || /[\\\u0000-\u0020\u007f]/.test(next)) return "/";
    let url;
    try { url = new URL(next, location.origin); } catch (err) { return "/"; }
    if (url.origin !== location.origin) return "/";
    return url.pathname + url.search + url.hash;
  }
  window.CT_SIGNIN = { sameOriginPath };
})();
