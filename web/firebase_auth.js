// Firebase Auth through its REST API, for the staff board and the merchant portal: signing in with
// an e-mail address and a password, setting a password and confirming the address with the codes an
// invitation's link carries, and renewing the ID token before it expires. No SDK: nothing is loaded
// from elsewhere, and the pages' Content-Security-Policy allows only our own scripts.
import { API, FIREBASE, Problem, Unreachable, call } from "./common.js";

const GOOGLE = { auth: "https://identitytoolkit.googleapis.com/v1", token: "https://securetoken.googleapis.com/v1" };
const RENEW_BEFORE_S = 300; // Firebase's ID tokens last an hour
// Firebase's error messages as the pages explain them (their i18n tables have "problem.<code>").
const REASONS = {
  INVALID_LOGIN_CREDENTIALS: "sign_in_failed", INVALID_PASSWORD: "sign_in_failed", EMAIL_NOT_FOUND: "sign_in_failed",
  INVALID_EMAIL: "sign_in_failed", USER_DISABLED: "account_disabled", TOO_MANY_ATTEMPTS_TRY_LATER: "too_many_attempts",
  EXPIRED_OOB_CODE: "link_used", INVALID_OOB_CODE: "link_used", WEAK_PASSWORD: "weak_password",
  TOKEN_EXPIRED: "session_expired", INVALID_REFRESH_TOKEN: "session_expired", USER_NOT_FOUND: "session_expired",
};

/** The claims of an ID token (read, not verified: the API verifies it). */
export function claimsOf(token) {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

/** Firebase Auth at one place: Google's hosts, or the local emulator in dev. */
export class FirebaseAuth {
  constructor(apiKey, authUrl, tokenUrl) {
    this.apiKey = apiKey;
    this.authUrl = authUrl;
    this.tokenUrl = tokenUrl;
  }

  /** JSON for Identity Toolkit, a form for renewing (as Google documents each); a refusal is a
   * Problem whose code says why (REASONS), a request that got no answer Unreachable. */
  async request(url, body) {
    const form = body instanceof URLSearchParams;
    const init = form ? { body } : { body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
    let response;
    try {
      response = await fetch(`${url}?key=${encodeURIComponent(this.apiKey)}`, { method: "POST", ...init });
    } catch (error) {
      throw new Unreachable(String(error));
    }
    if (response.ok) return response.json();
    const message = (await response.json().catch(() => ({}))).error?.message || "";
    throw new Problem(response.status, { code: REASONS[message.split(/[\s:]/)[0]] || "sign_in_failed" });
  }

  async signIn(email, password) {
    const answer = await this.request(`${this.authUrl}/accounts:signInWithPassword`, { email, password, returnSecureToken: true });
    return { token: answer.idToken, refreshToken: answer.refreshToken };
  }

  /** Sets the password of the account a password-reset code was made for; answers its e-mail address. */
  async setPassword(oobCode, newPassword) {
    return (await this.request(`${this.authUrl}/accounts:resetPassword`, { oobCode, newPassword })).email;
  }

  /** Marks the account's e-mail address verified with the code its verification link carries. */
  async confirmEmail(oobCode) {
    await this.request(`${this.authUrl}/accounts:update`, { oobCode });
  }

  async renew(refreshToken) {
    const answer = await this.request(`${this.tokenUrl}/token`,
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }));
    return { token: answer.id_token, refreshToken: answer.refresh_token };
  }
}

let located = null;

/** Where this deployment's Firebase Auth is: Google's, with the Web API key config.js names, or in
 * dev (no key configured) the local emulator, as the API says (`GET /v1/dev/firebase`). */
export function firebaseAuth() {
  located ??= FIREBASE
    ? Promise.resolve(new FirebaseAuth(FIREBASE.apiKey, GOOGLE.auth, GOOGLE.token))
    : call(API.staff, "/v1/dev/firebase").then((dev) => new FirebaseAuth(dev.api_key, dev.auth_url, dev.token_url));
  located.catch(() => (located = null)); // asked again next time
  return located;
}

/**
 * A function answering a valid ID token for a session ({token, …}): its own while it has more than
 * a few minutes left, else the one `renew(session)` answers. Parallel calls share one renewal: a
 * refresh token is spent once.
 */
export function tokenKeeper(renew) {
  let renewal = null;
  return async (session) => {
    if (claimsOf(session.token).exp - Date.now() / 1000 > RENEW_BEFORE_S) return session.token;
    renewal ??= renew(session).finally(() => (renewal = null));
    return renewal;
  };
}
