#!/usr/bin/env node
/**
 * panva's openid-client 6 (the FAPI 2.0 certified relying party library)
 * against credlog: PAR, DPoP and private_key_jwt with ES256 under the FAPI
 * 2.0 Security Profile (issue 28).
 *
 * Two clients are registered through POST /clients as the signed-in user,
 * each authenticating with `private_key_jwt` and keys made here:
 *
 * - a plain one (an ES256 key; no profile): openid-client's discovery, the
 *   client credentials grant, and the code flow with PKCE S256 whose ID
 *   token openid-client validates, UserInfo, /api/me and a refresh;
 * - a FAPI 2.0 one (`profile: "fapi2"`, `dpop_bound_access_tokens`,
 *   `id_token_signed_response_alg: "ES256"`; an ES256 key and an RSA key):
 *   the pushed authorization request (`buildAuthorizationUrlWithPAR`), the
 *   consent, `authorizationCodeGrant` with a DPoP proof (which checks `iss`
 *   per RFC 9207 and the ES256 ID token), `fetchUserInfo` and
 *   `fetchProtectedResource` with DPoP, a refresh, and what the profile
 *   refuses: the bound token as a Bearer token or with another key's proof,
 *   a request_uri used twice, a request not pushed, a token request without
 *   a proof, a client assertion signed with RS256.
 *
 * The person's part (sign in through the login form, post the consent form)
 * is played with fetch and a cookie jar, following no redirect by itself: the
 * redirect to the registered URI is read from the Location header.
 *
 * Prints `ok <case>` per case that passed and `FAIL <case>: ...` (on stderr,
 * with the last HTTP exchange) per case that failed, runs every case, then
 * `all N cases passed`, or exits 1 after `N cases passed, M failed`.
 *
 * Usage (after `npm ci` in this directory, or from a copy beside an
 * installed node_modules, as http/tests/interop_node.rs runs it):
 *
 *     node fapi2.mjs --base-url http://127.0.0.1:PORT    CREDLOG_BASE_URL
 *                    [--username demo --password demo]   CREDLOG_USERNAME / _PASSWORD
 *                    [--redirect-uri URI]                CREDLOG_REDIRECT_URI
 *                    [--session-cookie credlog_session]  CREDLOG_SESSION_COOKIE
 */

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

import * as client from 'openid-client'

// --- options

function options() {
  const env = process.env
  const { values } = parseArgs({
    options: {
      'base-url': { type: 'string', default: env.CREDLOG_BASE_URL },
      username: { type: 'string', default: env.CREDLOG_USERNAME ?? 'demo' },
      password: { type: 'string', default: env.CREDLOG_PASSWORD ?? 'demo' },
      'redirect-uri': {
        type: 'string',
        default: env.CREDLOG_REDIRECT_URI ?? 'http://127.0.0.1:8000/callback',
      },
      'session-cookie': {
        type: 'string',
        default: env.CREDLOG_SESSION_COOKIE ?? 'credlog_session',
      },
    },
  })
  if (!values['base-url']) {
    console.error('fapi2.mjs: --base-url (or $CREDLOG_BASE_URL) is required')
    process.exit(2)
  }
  return {
    baseUrl: values['base-url'].replace(/\/+$/, ''),
    username: values.username,
    password: values.password,
    callback: values['redirect-uri'],
    sessionCookie: values['session-cookie'],
  }
}

const OPTIONS = options()
const SCOPE = 'openid profile'

// --- failures and the exchanges they show

/** A check that did not hold; the message says what and shows the exchange. */
class Failure extends Error {}

function check(condition, message) {
  if (!condition) {
    throw new Failure(typeof message === 'function' ? message() : message)
  }
}

/** Every HTTP exchange of the current case, newest last. */
let EXCHANGES = []

const SHOWN_REQUEST = ['authorization', 'content-type', 'cookie', 'dpop']
const SHOWN_RESPONSE = [
  'content-type',
  'location',
  'www-authenticate',
  'dpop-nonce',
  'set-cookie',
  'cache-control',
]

function bodyText(body) {
  if (body === undefined || body === null) return ''
  if (typeof body === 'string') return body
  if (body instanceof URLSearchParams) return body.toString()
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) {
    return new TextDecoder().decode(body)
  }
  return `(${Object.prototype.toString.call(body)})`
}

function picked(headers, names) {
  const out = {}
  for (const [name, value] of new Headers(headers ?? {}).entries()) {
    if (names.includes(name.toLowerCase())) out[name] = value
  }
  return JSON.stringify(out)
}

/** The request and the response, enough to replay the problem. */
function show(exchange) {
  if (!exchange) return ' (no HTTP exchange yet)'
  return (
    `\n  request:  ${exchange.method} ${exchange.url}` +
    `\n            headers ${picked(exchange.requestHeaders, SHOWN_REQUEST)}` +
    `\n            body ${JSON.stringify(exchange.requestBody)}` +
    `\n  response: ${exchange.status} ${exchange.statusText}` +
    `\n            headers ${picked(exchange.responseHeaders, SHOWN_RESPONSE)}` +
    `\n            body ${JSON.stringify(exchange.responseBody.slice(0, 1000))}`
  )
}

function lastExchange() {
  return show(EXCHANGES[EXCHANGES.length - 1])
}

/**
 * fetch that keeps every exchange in EXCHANGES; openid-client uses it through
 * its `customFetch` hook, the person's browser directly.
 */
async function recordingFetch(url, init = {}) {
  const response = await fetch(url, init)
  const exchange = {
    method: init.method ?? 'GET',
    url: String(url),
    requestHeaders: init.headers,
    requestBody: bodyText(init.body),
    status: response.status,
    statusText: response.statusText,
    responseHeaders: response.headers,
    responseBody: await response.clone().text(),
  }
  EXCHANGES.push(exchange)
  response.exchange = exchange
  return response
}

// --- the person: a browser-like session over fetch

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function unescapeHtml(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
      return String.fromCodePoint(code)
    }
    return ENTITIES[name.toLowerCase()] ?? whole
  })
}

function attributes(tag) {
  const out = {}
  for (const match of tag.matchAll(/([a-zA-Z_:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[match[1].toLowerCase()] = unescapeHtml(match[2] ?? match[3] ?? match[4] ?? '')
  }
  return out
}

/** The `<form method="post">`s of a page: action, hidden inputs as [name, value]. */
function postForms(html) {
  const forms = []
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const form = attributes(match[1])
    if ((form.method ?? 'get').toLowerCase() !== 'post') continue
    const hidden = []
    for (const input of match[2].matchAll(/<input\b([^>]*)>/gi)) {
      const attrs = attributes(input[1])
      if ((attrs.type ?? '').toLowerCase() === 'hidden' && attrs.name) {
        hidden.push([attrs.name, attrs.value ?? ''])
      }
    }
    forms.push({ action: form.action ?? '', hidden })
  }
  return forms
}

/** A browser that keeps cookies and follows no redirect by itself. */
class Browser {
  constructor() {
    this.cookies = new Map()
  }

  async request(url, init = {}) {
    const headers = new Headers(init.headers ?? {})
    if (this.cookies.size) {
      headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '))
    }
    const response = await recordingFetch(url, { ...init, headers, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      const value = pair.slice(at + 1).trim()
      const gone = attrs.some((attr) => /^\s*max-age\s*=\s*0\s*$/i.test(attr))
      if (gone || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }

  get(url) {
    return this.request(url)
  }

  postForm(url, fields) {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    })
  }

  postJson(url, value) {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(value),
    })
  }
}

function expectStatus(response, status, what) {
  check(response.status === status, () => `${what}: expected ${status}, got ${response.status}${show(response.exchange)}`)
}

/** A browser signed in through the login form as the demo user. */
async function signIn() {
  const browser = new Browser()
  const page = await browser.get(`${OPTIONS.baseUrl}/login`)
  expectStatus(page, 200, 'GET /login')
  const forms = postForms(page.exchange.responseBody)
  check(forms.length === 1, () => `GET /login has ${forms.length} post forms${show(page.exchange)}`)
  const fields = forms[0].hidden.filter(([name]) => name === 'csrf_token')
  check(fields.length === 1, () => `the login form has no csrf_token${show(page.exchange)}`)
  const action = new URL(forms[0].action || '/login', `${OPTIONS.baseUrl}/login`).href
  const login = await browser.postForm(action, [
    ...forms[0].hidden,
    ['username', OPTIONS.username],
    ['password', OPTIONS.password],
  ])
  expectStatus(login, 303, 'POST /login')
  check(browser.cookies.has(OPTIONS.sessionCookie), () => `POST /login set no ${OPTIONS.sessionCookie} cookie${show(login.exchange)}`)
  return browser
}

/**
 * The person opens `url`, sees the consent page and grants; the URL the
 * server redirects to (the callback with the authorization response).
 */
async function consent(browser, url) {
  const page = await browser.get(url)
  expectStatus(page, 200, 'GET /oauth2/authorize (the consent page)')
  const forms = postForms(page.exchange.responseBody)
  check(forms.length === 1, () => `the consent page has ${forms.length} post forms${show(page.exchange)}`)
  const action = new URL(forms[0].action || url, url).href
  check(new URL(action).pathname === '/oauth2/authorize', () => `the consent form posts to ${action}${show(page.exchange)}`)
  const answer = await browser.postForm(action, [...forms[0].hidden, ['confirm', 'yes']])
  expectStatus(answer, 302, 'POST /oauth2/authorize (confirm=yes)')
  const location = answer.headers.get('location') ?? ''
  check(location.startsWith(`${OPTIONS.callback}?`), () => `the consent redirects to ${JSON.stringify(location)}, not to ${OPTIONS.callback}${show(answer.exchange)}`)
  return new URL(location)
}

/**
 * What the server does with an authorization request it must refuse: a 400
 * page, or a redirect to the callback with `error` (and no code). Returns
 * the redirect's parameters, or null for a page.
 */
async function expectAuthorizationRefused(browser, url, what) {
  const page = await browser.get(url)
  if (page.status === 302 || page.status === 303) {
    const location = new URL(page.headers.get('location') ?? '', url)
    const params = location.searchParams
    check(
      location.href.startsWith(`${OPTIONS.callback}?`) && params.get('error') && !params.get('code'),
      () => `${what}: redirected to ${location.href}, not to the callback with an error${show(page.exchange)}`,
    )
    return params
  }
  check(page.status === 400, () => `${what}: expected a 400 page or an error redirect, got ${page.status}${show(page.exchange)}`)
  return null
}

// --- keys and clients

const ES256 = { name: 'ECDSA', namedCurve: 'P-256' }

/** A fresh ES256 key: the private CryptoKey and the public JWK. */
async function es256Key(kid) {
  const pair = await crypto.subtle.generateKey(ES256, true, ['sign', 'verify'])
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey)
  return {
    kid,
    privateKey: pair.privateKey,
    jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, use: 'sig', alg: 'ES256' },
  }
}

/**
 * A fresh RSA key usable for RS256 and PS256: one private CryptoKey for each
 * and the public JWK (without `alg`: either algorithm may use it).
 */
async function rsaKey(kid) {
  const pair = await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', pair.privateKey)
  const pss = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign'])
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey)
  return { kid, rs256: pair.privateKey, ps256: pss, jwk: { kty: 'RSA', n: jwk.n, e: jwk.e, kid, use: 'sig' } }
}

/**
 * Runs `make` once; every later call gets the same outcome. A failure is
 * shown in full where it happened; later cases that need it say so.
 */
function once(what, make) {
  let promise
  return () => {
    if (promise === undefined) {
      promise = make()
      return promise
    }
    return promise.catch((error) => {
      throw new Failure(`needs ${what}, which failed: ${String(error?.message).split('\n')[0]}`)
    })
  }
}

const browser = once('the sign-in', signIn)

async function register(registration, what) {
  const response = await (await browser()).postJson(`${OPTIONS.baseUrl}/clients`, registration)
  expectStatus(response, 201, `POST /clients (${what})`)
  const answer = JSON.parse(response.exchange.responseBody)
  check(answer.client_id, () => `POST /clients (${what}) answered no client_id${show(response.exchange)}`)
  check(answer.client_secret === undefined, () => `POST /clients (${what}) gave a private_key_jwt client a secret${show(response.exchange)}`)
  for (const [name, value] of Object.entries(registration)) {
    if (name === 'jwks') continue
    check(
      JSON.stringify(answer[name]) === JSON.stringify(value),
      () => `POST /clients (${what}) echoed ${name}=${JSON.stringify(answer[name])}, not ${JSON.stringify(value)}${show(response.exchange)}`,
    )
  }
  return answer
}

/** openid-client's Configuration for a registered client: discovery from the issuer. */
async function configure(clientId, metadata, auth) {
  const config = await client.discovery(new URL(OPTIONS.baseUrl), clientId, metadata, auth, {
    [client.customFetch]: recordingFetch,
    execute: [client.allowInsecureRequests],
  })
  return config
}

/** The plain private_key_jwt client (ES256 key, no profile). */
const plain = once('the private_key_jwt client', async () => {
  const key = await es256Key('plain-es256')
  const registered = await register(
    {
      client_name: 'interop openid-client private_key_jwt',
      redirect_uris: [OPTIONS.callback],
      scope: SCOPE,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.jwk] },
    },
    'private_key_jwt',
  )
  const config = await configure(registered.client_id, {}, client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }))
  return { registered, config }
})

/** The FAPI 2.0 client, its keys and a Configuration authenticating with the ES256 key. */
const fapi = once('the fapi2 client', async () => {
  const key = await es256Key('fapi-es256')
  const rsa = await rsaKey('fapi-rsa')
  const registered = await register(
    {
      client_name: 'interop openid-client FAPI 2.0',
      redirect_uris: [OPTIONS.callback],
      scope: SCOPE,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [key.jwk, rsa.jwk] },
      profile: 'fapi2',
      dpop_bound_access_tokens: true,
      id_token_signed_response_alg: 'ES256',
    },
    'fapi2',
  )
  const metadata = { id_token_signed_response_alg: 'ES256' }
  const configWith = (privateKey, kid) =>
    configure(registered.client_id, metadata, client.PrivateKeyJwt({ key: privateKey, kid }))
  const config = await configWith(key.privateKey, key.kid)
  const dpopKeys = await client.randomDPoPKeyPair('ES256')
  const dpop = client.getDPoPHandle(config, dpopKeys)
  return { registered, config, configWith, rsa, dpop }
})

// --- helpers on tokens and resources

function jwtPart(jwt, index) {
  const parts = String(jwt).split('.')
  check(parts.length === 3, `not a compact JWS: ${JSON.stringify(jwt)}`)
  return JSON.parse(Buffer.from(parts[index], 'base64url').toString('utf8'))
}

/** The status, WWW-Authenticate and body of a resource request, whether
 * openid-client answers the Response or throws on its challenge. */
async function resourceOutcome(call) {
  try {
    const response = await call()
    return {
      status: response.status,
      challenge: response.headers.get('www-authenticate') ?? '',
      body: await response.text(),
    }
  } catch (error) {
    if (error instanceof client.WWWAuthenticateChallengeError || error?.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE') {
      return {
        status: error.status,
        challenge: error.response?.headers.get('www-authenticate') ?? '',
        body: '',
        challenges: error.cause,
      }
    }
    throw error
  }
}

async function expectMe(response, user, clientId, what) {
  const text = await response.text()
  check(response.status === 200, () => `${what}: GET /api/me answered ${response.status}${lastExchange()}`)
  const me = JSON.parse(text)
  check(me.user === user && me.client_id === clientId, () => `${what}: GET /api/me answered ${text}${lastExchange()}`)
  return me
}

/** The thrown OAuth error of a token or PAR request the server must refuse. */
async function expectOAuthError(call, errors, what) {
  let result
  try {
    result = await call()
  } catch (error) {
    if (error instanceof client.ResponseBodyError) {
      check(errors.includes(error.error), () => `${what}: refused with ${error.status} ${error.error}, expected one of ${errors}${lastExchange()}`)
      return error
    }
    // A 401 that also names the server's HTTP authentication scheme (RFC
    // 6749 5.2 allows WWW-Authenticate on invalid_client) surfaces as a
    // challenge error; the error code is then read from the body.
    if (error instanceof client.WWWAuthenticateChallengeError) {
      const body = await error.response?.clone().json().catch(() => ({}))
      check(errors.includes(body?.error), () => `${what}: refused with ${error.status} ${body?.error}, expected one of ${errors}${lastExchange()}`)
      return error
    }
    throw error
  }
  throw new Failure(`${what}: the server answered ${JSON.stringify(result).slice(0, 300)}, expected ${errors.join(' or ')}${lastExchange()}`)
}

/** A `WWW-Authenticate` value holding a DPoP challenge (among others maybe). */
const DPOP_CHALLENGE = /(^|,)\s*DPoP(\s|$)/i

function meUrl() {
  return new URL(`${OPTIONS.baseUrl}/api/me`)
}

// --- the plain private_key_jwt client

async function discovery() {
  const { config } = await plain()
  const metadata = config.serverMetadata()
  check(metadata.issuer === OPTIONS.baseUrl, `issuer ${metadata.issuer}, not ${OPTIONS.baseUrl}`)
  for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint']) {
    check(metadata[name], () => `the Discovery document has no ${name}: ${JSON.stringify(metadata)}`)
  }
  check(metadata.supportsPKCE('S256'), () => `no S256 in code_challenge_methods_supported: ${JSON.stringify(metadata)}`)
  check(
    metadata.token_endpoint_auth_methods_supported?.includes('private_key_jwt') &&
      metadata.token_endpoint_auth_signing_alg_values_supported?.includes('ES256'),
    () => `private_key_jwt with ES256 not in the metadata: ${JSON.stringify(metadata)}`,
  )
}

async function plainClientCredentials() {
  const { config, registered } = await plain()
  const tokens = await client.clientCredentialsGrant(config, { scope: 'profile' })
  const sent = new URLSearchParams(EXCHANGES.findLast((e) => e.url.endsWith('/oauth2/token'))?.requestBody ?? '')
  check(
    sent.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && sent.get('client_assertion'),
    () => `openid-client sent no client assertion${lastExchange()}`,
  )
  check(jwtPart(sent.get('client_assertion'), 0).alg === 'ES256', 'the client assertion is not ES256')
  check(tokens.token_type === 'bearer', () => `token_type ${tokens.token_type}${lastExchange()}`)
  const response = await client.fetchProtectedResource(config, tokens.access_token, meUrl(), 'GET')
  await expectMe(response, null, registered.client_id, 'client credentials token')
}

/** The plain client's code flow: callback URL and tokens. */
const plainFlow = once('the code flow', async () => {
  const { config } = await plain()
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: OPTIONS.callback,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  const callback = await consent(await browser(), url.href)
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  })
  return { callback, tokens }
})

async function plainCodeFlow() {
  const { config, registered } = await plain()
  const { tokens } = await plainFlow()
  check(tokens.token_type === 'bearer', () => `token_type ${tokens.token_type}`)
  const claims = tokens.claims()
  check(claims?.aud === registered.client_id || claims?.aud?.includes?.(registered.client_id), () => `ID token aud ${JSON.stringify(claims)}`)
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  check(info.preferred_username === OPTIONS.username, () => `UserInfo ${JSON.stringify(info)}${lastExchange()}`)
  const response = await client.fetchProtectedResource(config, tokens.access_token, meUrl(), 'GET')
  await expectMe(response, OPTIONS.username, registered.client_id, 'code flow token')
}

async function plainRefresh() {
  const { config, registered } = await plain()
  const { tokens } = await plainFlow()
  check(tokens.refresh_token, 'the code grant issued no refresh token')
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
  check(refreshed.access_token && refreshed.access_token !== tokens.access_token, 'the refresh issued no new access token')
  check(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'the refresh token did not rotate')
  check(refreshed.claims()?.sub === tokens.claims().sub, () => `the refreshed ID token is for ${refreshed.claims()?.sub}`)
  const response = await client.fetchProtectedResource(config, refreshed.access_token, meUrl(), 'GET')
  await expectMe(response, OPTIONS.username, registered.client_id, 'refreshed token')
}

async function plainCallbackIss() {
  const { callback } = await plainFlow()
  check(
    callback.searchParams.get('iss') === OPTIONS.baseUrl,
    `the code redirect ${callback.href} carries iss=${callback.searchParams.get('iss')}, not ${OPTIONS.baseUrl} (RFC 9207)`,
  )
}

// --- FAPI 2.0

async function fapiRegistration() {
  await fapi()
}

async function metadataLists() {
  const { config } = await fapi()
  const documents = [['Discovery', config.serverMetadata()]]
  const rfc8414 = await recordingFetch(`${OPTIONS.baseUrl}/.well-known/oauth-authorization-server`)
  expectStatus(rfc8414, 200, 'GET /.well-known/oauth-authorization-server')
  documents.push(['RFC 8414 metadata', JSON.parse(rfc8414.exchange.responseBody)])
  for (const [what, metadata] of documents) {
    const text = JSON.stringify(metadata)
    check(
      metadata.pushed_authorization_request_endpoint === `${OPTIONS.baseUrl}/oauth2/par`,
      `${what}: pushed_authorization_request_endpoint ${metadata.pushed_authorization_request_endpoint}: ${text}`,
    )
    check(typeof metadata.require_pushed_authorization_requests === 'boolean', `${what}: no require_pushed_authorization_requests: ${text}`)
    check(metadata.dpop_signing_alg_values_supported?.includes('ES256'), `${what}: dpop_signing_alg_values_supported lacks ES256: ${text}`)
    check(metadata.authorization_response_iss_parameter_supported === true, `${what}: authorization_response_iss_parameter_supported is not true: ${text}`)
    for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA']) {
      check(metadata.id_token_signing_alg_values_supported?.includes(alg), `${what}: id_token_signing_alg_values_supported lacks ${alg}: ${text}`)
    }
  }
}

/** The FAPI 2.0 client's pushed request: its authorization URL and PKCE/state/nonce. */
const pushed = once('the pushed request', async () => {
  const { config, dpop } = await fapi()
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = await client.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: OPTIONS.callback,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    },
    { DPoP: dpop },
  )
  const par = EXCHANGES.findLast((e) => e.url.endsWith('/oauth2/par'))
  return { url, verifier, state, nonce, par }
})

async function pushedRequest() {
  const { registered } = await fapi()
  const { url, par } = await pushed()
  check(par?.status === 201, () => `POST /oauth2/par answered ${par?.status}${show(par)}`)
  check(new Headers(par.requestHeaders).get('dpop'), () => `openid-client sent no DPoP proof to the PAR endpoint${show(par)}`)
  const answer = JSON.parse(par.responseBody)
  check(
    /^urn:ietf:params:oauth:request_uri:/.test(answer.request_uri) && answer.expires_in > 0 && answer.expires_in <= 60,
    () => `POST /oauth2/par answered ${par.responseBody}${show(par)}`,
  )
  check(
    [...url.searchParams.keys()].sort().join(' ') === 'client_id request_uri' &&
      url.searchParams.get('client_id') === registered.client_id &&
      url.searchParams.get('request_uri') === answer.request_uri,
    `openid-client built the authorization URL ${url.href}`,
  )
}

/** The FAPI 2.0 code flow: the callback and the DPoP-bound tokens. */
const fapiFlow = once('the FAPI 2.0 code flow', async () => {
  const { config, dpop } = await fapi()
  const { url, verifier, state, nonce } = await pushed()
  const callback = await consent(await browser(), url.href)
  const tokens = await client.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
    undefined,
    { DPoP: dpop },
  )
  return { callback, tokens }
})

async function fapiCodeGrant() {
  const { registered } = await fapi()
  const { tokens } = await fapiFlow()
  const grant = EXCHANGES.findLast((e) => e.url.endsWith('/oauth2/token'))
  check(grant && new Headers(grant.requestHeaders).get('dpop'), () => `openid-client sent no DPoP proof to the token endpoint${lastExchange()}`)
  check(tokens.token_type === 'dpop', () => `token_type ${tokens.token_type}, not DPoP${show(grant)}`)
  const header = jwtPart(tokens.id_token, 0)
  check(header.alg === 'ES256' && header.kid, () => `the ID token's header is ${JSON.stringify(header)}, not ES256 with a kid`)
  const claims = tokens.claims()
  check(claims.iss === OPTIONS.baseUrl && claims.aud === registered.client_id, () => `ID token claims ${JSON.stringify(claims)}`)
}

async function fapiCallbackIss() {
  const { callback } = await fapiFlow()
  check(
    callback.searchParams.get('iss') === OPTIONS.baseUrl,
    `the code redirect ${callback.href} carries iss=${callback.searchParams.get('iss')}, not ${OPTIONS.baseUrl} (RFC 9207)`,
  )
}

async function fapiIntrospection() {
  const { config, dpop } = await fapi()
  const { tokens } = await fapiFlow()
  const introspected = await client.tokenIntrospection(config, tokens.access_token)
  const jkt = await dpop.calculateThumbprint()
  check(
    introspected.active === true && introspected.cnf?.jkt === jkt,
    () => `introspection answered ${JSON.stringify(introspected)}, expected cnf.jkt ${jkt}${lastExchange()}`,
  )
}

async function fapiUserInfo() {
  const { config, dpop } = await fapi()
  const { tokens } = await fapiFlow()
  const info = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub, { DPoP: dpop })
  check(info.preferred_username === OPTIONS.username, () => `UserInfo ${JSON.stringify(info)}${lastExchange()}`)
  const sent = EXCHANGES.findLast((e) => e.url.endsWith('/oauth2/userinfo'))
  check(/^DPoP /.test(new Headers(sent?.requestHeaders).get('authorization')), () => `UserInfo was not asked with the DPoP scheme${show(sent)}`)
}

async function fapiApiMe() {
  const { config, dpop, registered } = await fapi()
  const { tokens } = await fapiFlow()
  const response = await client.fetchProtectedResource(config, tokens.access_token, meUrl(), 'GET', undefined, undefined, { DPoP: dpop })
  await expectMe(response, OPTIONS.username, registered.client_id, 'DPoP-bound token')
}

async function fapiBearerRefused() {
  const { config } = await fapi()
  const { tokens } = await fapiFlow()
  const outcome = await resourceOutcome(() => client.fetchProtectedResource(config, tokens.access_token, meUrl(), 'GET'))
  check(
    outcome.status === 401 && DPOP_CHALLENGE.test(outcome.challenge) && /invalid_token/.test(outcome.challenge),
    () => `the bound token as Bearer got ${outcome.status} WWW-Authenticate ${JSON.stringify(outcome.challenge)}, expected 401 DPoP invalid_token${lastExchange()}`,
  )
}

async function fapiOtherKeyRefused() {
  const { config } = await fapi()
  const { tokens } = await fapiFlow()
  const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))
  const outcome = await resourceOutcome(() =>
    client.fetchProtectedResource(config, tokens.access_token, meUrl(), 'GET', undefined, undefined, { DPoP: thief }),
  )
  check(
    outcome.status === 401 && DPOP_CHALLENGE.test(outcome.challenge) && /invalid_token/.test(outcome.challenge),
    () => `the bound token with another key's proof got ${outcome.status} WWW-Authenticate ${JSON.stringify(outcome.challenge)}, expected 401 DPoP invalid_token${lastExchange()}`,
  )
}

async function fapiRefresh() {
  const { config, dpop, registered } = await fapi()
  const { tokens } = await fapiFlow()
  check(tokens.refresh_token, 'the code grant issued no refresh token')
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop })
  check(refreshed.token_type === 'dpop', () => `refresh token_type ${refreshed.token_type}${lastExchange()}`)
  check(refreshed.access_token !== tokens.access_token, 'the refresh issued no new access token')
  if (refreshed.id_token) {
    check(jwtPart(refreshed.id_token, 0).alg === 'ES256', 'the refreshed ID token is not ES256')
    check(refreshed.claims().sub === tokens.claims().sub, 'the refreshed ID token names another sub')
  }
  const response = await client.fetchProtectedResource(config, refreshed.access_token, meUrl(), 'GET', undefined, undefined, { DPoP: dpop })
  await expectMe(response, OPTIONS.username, registered.client_id, 'refreshed DPoP-bound token')
}

async function requestUriOnce() {
  await fapiFlow()
  const { url } = await pushed()
  const params = await expectAuthorizationRefused(await browser(), url.href, 'the request_uri used again')
  if (params) {
    check(params.get('iss') === OPTIONS.baseUrl, `the error redirect carries iss=${params.get('iss')} (RFC 9207)`)
  }
}

async function notPushedRefused() {
  const { config } = await fapi()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: OPTIONS.callback,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: client.randomState(),
  })
  const params = await expectAuthorizationRefused(await browser(), url.href, 'an authorization request not pushed')
  if (params) {
    check(params.get('iss') === OPTIONS.baseUrl, `the error redirect carries iss=${params.get('iss')} (RFC 9207)`)
  }
}

async function withoutProofRefused() {
  const { config } = await fapi()
  await expectOAuthError(
    () => client.clientCredentialsGrant(config, { scope: 'profile' }),
    ['invalid_request', 'invalid_dpop_proof'],
    'a token request of a dpop_bound_access_tokens client without a proof',
  )
}

async function clientCredentialsDPoP() {
  const { config, dpop, registered } = await fapi()
  const tokens = await client.clientCredentialsGrant(config, { scope: 'profile' }, { DPoP: dpop })
  check(tokens.token_type === 'dpop', () => `client credentials token_type ${tokens.token_type}${lastExchange()}`)
  const response = await client.fetchProtectedResource(config, tokens.access_token, meUrl(), 'GET', undefined, undefined, { DPoP: dpop })
  await expectMe(response, null, registered.client_id, 'DPoP-bound client credentials token')
}

async function ps256Accepted() {
  const { configWith, rsa, dpop } = await fapi()
  const ps256 = await configWith(rsa.ps256, rsa.kid)
  const tokens = await client.clientCredentialsGrant(ps256, { scope: 'profile' }, { DPoP: dpop })
  check(tokens.access_token, 'a PS256 client assertion got no token')
  check(sentAssertionAlg() === 'PS256', () => `openid-client signed the assertion with ${sentAssertionAlg()}`)
}

async function rs256Refused() {
  const { configWith, rsa, dpop } = await fapi()
  const rs256 = await configWith(rsa.rs256, rsa.kid)
  await expectOAuthError(
    () => client.clientCredentialsGrant(rs256, { scope: 'profile' }, { DPoP: dpop }),
    ['invalid_client'],
    'a fapi2 client assertion signed with RS256',
  )
  check(sentAssertionAlg() === 'RS256', () => `openid-client signed the assertion with ${sentAssertionAlg()}`)
}

/** The alg of the client assertion last sent to the token endpoint. */
function sentAssertionAlg() {
  const sent = EXCHANGES.findLast((e) => e.url.endsWith('/oauth2/token'))
  return jwtPart(new URLSearchParams(sent?.requestBody ?? '').get('client_assertion'), 0).alg
}

// --- running

const CASES = [
  ['openid-client discovery reads the metadata (issuer, endpoints, private_key_jwt ES256, S256)', discovery],
  ['private_key_jwt (ES256) client_credentials grant; the Bearer token works at /api/me', plainClientCredentials],
  ['code flow: PKCE S256, consent over HTTP, authorizationCodeGrant validates the ID token; UserInfo, /api/me', plainCodeFlow],
  ['refreshTokenGrant rotates the refresh token; new ID token for the same sub', plainRefresh],
  ['RFC 9207: the code redirect carries iss', plainCallbackIss],
  ['POST /clients registers a fapi2 client (dpop_bound_access_tokens, ES256 ID tokens, ES256 + RSA jwks)', fapiRegistration],
  ['metadata (Discovery and RFC 8414) lists PAR, DPoP ES256, the iss parameter, every ID token alg', metadataLists],
  ['FAPI 2.0: buildAuthorizationUrlWithPAR (private_key_jwt, DPoP) gets a request_uri (201, expires_in <= 60)', pushedRequest],
  ['FAPI 2.0: consent over HTTP; authorizationCodeGrant with DPoP gives token_type DPoP and an ES256 ID token', fapiCodeGrant],
  ['FAPI 2.0: the code redirect carries iss (RFC 9207)', fapiCallbackIss],
  ["FAPI 2.0: introspection shows cnf.jkt, the DPoP key's thumbprint", fapiIntrospection],
  ['FAPI 2.0: fetchUserInfo with DPoP', fapiUserInfo],
  ['FAPI 2.0: fetchProtectedResource /api/me with DPoP', fapiApiMe],
  ['FAPI 2.0: the DPoP-bound token sent as Bearer is 401 invalid_token', fapiBearerRefused],
  ["FAPI 2.0: the DPoP-bound token with another key's proof is 401", fapiOtherKeyRefused],
  ['FAPI 2.0: refreshTokenGrant with DPoP gives a DPoP token (and an ES256 ID token)', fapiRefresh],
  ['FAPI 2.0: the request_uri used again is refused', requestUriOnce],
  ['FAPI 2.0: an authorization request not pushed is refused', notPushedRefused],
  ['FAPI 2.0: a token request without a DPoP proof is refused', withoutProofRefused],
  ['FAPI 2.0: client_credentials with DPoP gives a DPoP-bound token', clientCredentialsDPoP],
  ['FAPI 2.0: private_key_jwt signed with PS256 (an RSA key) is accepted', ps256Accepted],
  ['FAPI 2.0: private_key_jwt signed with RS256 is refused (invalid_client)', rs256Refused],
]

function versions() {
  const lock = JSON.parse(readFileSync(new URL('./package-lock.json', import.meta.url), 'utf8'))
  return ['openid-client', 'oauth4webapi', 'jose']
    .map((name) => `${name} ${lock.packages[`node_modules/${name}`]?.version}`)
    .join(', ')
}

/** An error a library raised, with the chain of its causes. */
function describe(error) {
  const lines = []
  for (let depth = 0; depth < 5 && error !== undefined; depth += 1) {
    if (error instanceof Error) {
      lines.push(`${error.name}${error.code ? ` ${error.code}` : ''}: ${error.message}`)
      error = error.cause
    } else {
      lines.push(`cause: ${JSON.stringify(error)?.slice(0, 1000)}`)
      break
    }
  }
  return lines.join('\n  ')
}

async function main() {
  console.log(`fapi2.mjs against ${OPTIONS.baseUrl}: ${versions()}, node ${process.versions.node}`)
  let passed = 0
  let failed = 0
  for (const [label, run] of CASES) {
    EXCHANGES = []
    try {
      await run()
      console.log(`ok ${label}`)
      passed += 1
    } catch (error) {
      failed += 1
      if (error instanceof Failure) {
        console.error(`FAIL ${label}: ${error.message}`)
      } else {
        // A library raised: what it said, its causes, and the exchange it read.
        console.error(`FAIL ${label}: ${describe(error)}\n  last exchange:${lastExchange()}`)
      }
    }
  }
  if (failed) {
    console.log(`${passed} cases passed, ${failed} failed`)
    process.exit(1)
  }
  console.log(`all ${passed} cases passed`)
}

await main()
